"""Run folders: training with one, reading one back, and the files in it.

``job`` trains (or resumes) a model into a run folder; ``folder`` names its files and reads
and writes them; ``files`` writes atomically; ``inference`` rebuilds a trained model from a
folder to evaluate or predict; ``figures`` draws every picture; ``csv_files`` reads
feature rows and writes predictions.
"""
