"""``--logger mlflow``: each run as an MLflow run, through ``MlflowClient`` alone.

The tracking store is ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the current
folder; the experiment is ``MLFLOW_EXPERIMENT_NAME``, else ``zoo``. When zoo creates the
experiment in a ``sqlite:///`` store, its artifacts go to ``mlartifacts/`` beside the
database file (where ``mlflow server`` keeps them by default), so the current folder gains
``mlflow.db`` and ``mlartifacts/`` and nothing else (no ``mlruns/``). The store is opened at
the first run (a new sqlite database takes a few seconds to create).

Per run: the resolved settings as params (``params.NAME`` for a model parameter), the four
metrics at every log point in one batch (step: the epoch; a compared seed's, which arrive
together after it trained, in batches of up to 1000 at its end), tags ``zoo.model``,
``zoo.dataset`` and ``zoo.run_dir``; at its end the run folder's config.json, history.csv,
weights.pt, boundary.png and curves.png and the summary (summary.json) as artifacts. It ends
FINISHED, FAILED (diverged, with the weights kept, or an error) or KILLED (interrupted; a
resumed run is a new MLflow run, tagged ``zoo.resumed_from``). A comparison is one parent run
(params: models, datasets, seeds, settings) with a child run per (model, dataset, seed),
linked by the ``mlflow.parentRunId`` tag as MLflow's nested runs are.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

import zoo
from zoo.hookspecs import ComparisonInfo, RunInfo

SQLITE = "sqlite:///"
DEFAULT_URI = SQLITE + "mlflow.db"
ARTIFACTS = ("config.json", "history.csv", "weights.pt", "boundary.png", "curves.png")
MOST_METRICS = 1000  # in one log_batch call, MLflow's own limit
ENDED = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED", "diverged": "FAILED"}


class MlflowLogger:
    """MLflow runs by zoo run: created at its start, ended at its end or stop."""

    def __init__(self) -> None:
        self.uri = absolute(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
        self.experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "zoo"
        if "MLFLOW_LOGGING_LEVEL" not in os.environ:  # its INFO lines on a new database
            logging.getLogger("mlflow").setLevel(logging.WARNING)
        self._client: MlflowClient | None = None
        self._experiment_id = ""
        self.runs: dict[RunInfo, str] = {}  # zoo's run -> MLflow's run id
        self.parents: dict[ComparisonInfo, str] = {}
        self.ending: dict[RunInfo, str] = {}  # a diverged run's status, for its end
        self.pending: dict[RunInfo, list[Metric]] = {}  # a compared seed's metrics

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            client = MlflowClient(tracking_uri=self.uri)
            found = client.get_experiment_by_name(self.experiment)
            if found is not None:
                self._experiment_id = found.experiment_id
            else:
                location = artifact_location(self.uri)
                self._experiment_id = client.create_experiment(self.experiment, location)
            self._client = client
        return self._client

    @zoo.hookimpl
    def on_comparison_start(self, comparison: ComparisonInfo) -> None:
        client = self.client
        name = f"compare {' '.join(comparison.models)}"
        tags = {"zoo.comparison": comparison.id}
        run_id = client.create_run(self._experiment_id, run_name=name, tags=tags).info.run_id
        described = {
            "models": ",".join(comparison.models),
            "datasets": ",".join(comparison.datasets),
            "seeds": ",".join(map(str, comparison.seeds)),
        }
        params = [*described.items(), *flatten(comparison.settings)]
        client.log_batch(run_id, params=[Param(key, value) for key, value in params])
        self.parents[comparison] = run_id

    @zoo.hookimpl
    def on_run_start(self, run: RunInfo) -> None:
        client = self.client
        tags = {"zoo.model": run.model, "zoo.dataset": run.dataset}
        if run.run_dir is not None:
            tags["zoo.run_dir"] = str(run.run_dir.resolve())
        if run.start_epoch:
            tags["zoo.resumed_from"] = str(run.start_epoch)
        if run.comparison in self.parents:
            tags[MLFLOW_PARENT_RUN_ID] = self.parents[run.comparison]
        created = client.create_run(self._experiment_id, run_name=run.name, tags=tags)
        self.runs[run] = created.info.run_id
        params = [Param(key, value) for key, value in flatten(run.settings)]
        client.log_batch(self.runs[run], params=params)

    @zoo.hookimpl
    def on_log_point(self, run: RunInfo, epoch: int, metrics: Mapping[str, float]) -> None:
        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, epoch) for key, value in metrics.items()]
        if run.comparison is not None:  # its points come all at once: send them at its end
            self.pending.setdefault(run, []).extend(batch)
        else:
            self.client.log_batch(self.runs[run], metrics=batch)

    @zoo.hookimpl
    def on_run_stopped(self, run: RunInfo, reason: str, message: str) -> None:
        run_id = self.runs[run]
        self._flush(run)
        self.client.set_tag(run_id, "zoo.stopped", f"{reason}: {message}")
        if reason == "diverged":  # its end follows
            self.ending[run] = ENDED[reason]
        else:
            self.client.set_terminated(run_id, ENDED[reason])
            del self.runs[run]

    @zoo.hookimpl
    def on_run_end(self, run: RunInfo, summary: Mapping[str, Any]) -> None:
        self._flush(run)
        client, run_id = self.client, self.runs.pop(run)
        if run.run_dir is not None:
            for name in ARTIFACTS:
                if (run.run_dir / name).is_file():
                    client.log_artifact(run_id, str(run.run_dir / name))
        client.log_dict(run_id, dict(summary), "summary.json")
        client.set_terminated(run_id, self.ending.pop(run, "FINISHED"))

    @zoo.hookimpl
    def on_comparison_end(self, comparison: ComparisonInfo, status: str) -> None:
        run_id = self.parents.pop(comparison, None)
        if run_id is not None:
            self.client.set_terminated(run_id, ENDED[status])

    def _flush(self, run: RunInfo) -> None:
        metrics = self.pending.pop(run, [])
        for start in range(0, len(metrics), MOST_METRICS):
            batch = metrics[start : start + MOST_METRICS]
            self.client.log_batch(self.runs[run], metrics=batch)


def absolute(uri: str) -> str:
    """A sqlite database's path made absolute now: MLflow keeps one store per URI for the
    process, so a relative one would stay the first folder's database after a ``chdir``."""
    if not uri.startswith(SQLITE) or uri.startswith(SQLITE + "/"):
        return uri
    return SQLITE + str(Path(uri.removeprefix(SQLITE)).resolve())


def artifact_location(uri: str) -> str | None:
    """``mlartifacts/`` beside a sqlite database; elsewhere, the store's own choice."""
    if not uri.startswith(SQLITE):
        return None
    database = Path(uri.removeprefix(SQLITE).partition("?")[0])
    return (database.resolve().parent / "mlartifacts").as_uri()


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Params as MLflow keeps them: text, a mapping's keys as ``name.key``."""
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)
