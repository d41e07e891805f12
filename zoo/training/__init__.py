"""Training one model: its data, its task, the shared loop and its records.

``experiment`` prepares one model on one dataset (``prepare``; ``data``, ``models``, ``tasks``,
``devices``); ``loop`` is the skeleton every trainer shares (log schedule, stop check,
divergence); ``trainer`` is lesson 02's loop on one model; ``optim`` builds its optimizer and
batch order; ``checkpoint`` is what a run needs to go on exactly; ``records`` are what training
produces. Nothing here writes files: run folders are :mod:`zoo.runs`.
"""
