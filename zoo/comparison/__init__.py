"""Comparative evaluation: several models, datasets and seeds, trained by the shared trainer.

``runner`` is the entry point (``compare``, ``resume_comparison``): ``plan`` turns names into
prepared jobs, ``execute`` trains their seeds in chunks (in ``workers`` processes), ``store``
keeps finished chunks in an ``--out`` folder, ``summary`` computes statistics and verdicts,
``baselines`` adds scikit-learn's rows, ``report`` renders the result as text.
"""
