"""Run folders: training with one, reading one back, and the files in it.

``training_run`` trains a model into a run folder (``resume`` goes on with one); ``folder``
names its files and reads and writes them; ``files`` writes atomically; ``inference`` rebuilds a
trained model from a folder to evaluate or predict; ``figures`` draws every picture;
``csv_files`` reads feature rows and writes predictions.
"""
