"""zoo's own loggers, each an optional extra that is imported only when chosen.

``--logger tensorboard`` (``pip install 'torch-zoo[tensorboard]'``) writes TensorBoard event
files (see :mod:`zoo_plugins.tensorboard_logger`); ``--logger mlflow`` (``pip install
'torch-zoo[mlflow]'``) logs to an MLflow tracking store (see :mod:`zoo_plugins.mlflow_logger`).
Each factory imports its module, and so its library, only when its logger is chosen: zoo runs
without either, and asking for one that is not installed is one line saying what to install.
"""

from __future__ import annotations

from typing import Any

import zoo
from zoo.hookspecs import RegisterLogger


def tensorboard() -> Any:
    from .tensorboard_logger import TensorBoardLogger

    return TensorBoardLogger()


def mlflow() -> Any:
    from .mlflow_logger import MlflowLogger

    return MlflowLogger()


@zoo.hookimpl
def register_loggers(register: RegisterLogger) -> None:
    register(
        "tensorboard",
        tensorboard,
        description="TensorBoard event files: RUN/tensorboard/ (tensorboard --logdir runs)",
        install="torch-zoo[tensorboard]",
    )
    register(
        "mlflow",
        mlflow,
        description="MLflow runs: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here",
        install="torch-zoo[mlflow]",
    )
