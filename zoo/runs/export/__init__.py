"""Taking a trained model out of zoo: ONNX, TorchScript, or a safetensors folder.

Every format holds one graph from raw features to class probabilities (:mod:`.graph`), the
run's scaling included, and the run's classes and metrics. Each export is checked before it
is written: the file is loaded back as a user would load it (ONNX Runtime, ``torch.jit.load``,
zoo's own safetensors reader) and run on the run's test split, and if any probability differs
from torch's by more than :data:`TOLERANCE` nothing is written. Files follow the rules of
``zoo predict --output`` (:mod:`zoo.runs.outputs`): written atomically, never over one of the
run's own files, never over a folder; the safetensors export is a new (or empty) folder that
appears whole or not at all.
"""

FORMATS = ("onnx", "torchscript", "safetensors")  # torch-free: the command line offers them
TOLERANCE = 1e-5  # the largest difference of a probability an export may show
