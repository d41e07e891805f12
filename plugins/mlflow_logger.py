"""``--logger mlflow``: each run as an MLflow run, through ``MlflowClient`` alone.

The tracking store is ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the current
folder; the experiment is ``MLFLOW_EXPERIMENT_NAME``, else ``zoo``. When zoo creates the
experiment in a ``sqlite:///`` store, its artifacts go to ``mlartifacts/`` beside the
database file (where ``mlflow server`` keeps them by default), so the current folder gains
``mlflow.db`` and ``mlartifacts/`` and nothing else (no ``mlruns/``).

The store is opened when the logger is made, before anything trains (a new sqlite database
takes a few seconds to create): a tracking server that does not answer is one error line
naming it, and nothing trains. No call waits long: each of MLflow's HTTP requests made here
has a 3 s timeout and no retries (MLflow's defaults, 120 s and 7 retries with backoff, made a
run wait minutes per hook), unless ``MLFLOW_HTTP_REQUEST_TIMEOUT`` or
``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` say otherwise; a call that fails drops the logger for the
rest of the command (one warning), and training goes on.

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

import functools
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

import zoo
from zoo.errors import ConfigError
from zoo.hookspecs import ComparisonInfo, RunInfo

SQLITE = "sqlite:///"
DEFAULT_URI = SQLITE + "mlflow.db"
ARTIFACTS = ("config.json", "history.csv", "weights.pt", "boundary.png", "curves.png")
MOST_METRICS = 1000  # in one log_batch call, MLflow's own limit
ENDED = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED", "diverged": "FAILED"}
# MLflow's HTTP settings for zoo's calls, where the environment sets none
REQUEST_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "3", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
Method = TypeVar("Method", bound=Callable[..., Any])


@contextmanager
def bounded_requests() -> Iterator[None]:
    """MLflow's HTTP requests made inside have :data:`REQUEST_LIMITS`; set for the call only,
    so nothing else in the process (a notebook's own MLflow calls) is affected."""
    added = {name: limit for name, limit in REQUEST_LIMITS.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def bounded(method: Method) -> Method:
    """``method`` with its MLflow requests bounded (see :func:`bounded_requests`)."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with bounded_requests():
            return method(*args, **kwargs)

    return cast(Method, call)


class MlflowLogger:
    """MLflow runs by zoo run: created at its start, ended at its end or stop."""

    def __init__(self) -> None:
        self.uri = absolute(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
        self.experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "zoo"
        if "MLFLOW_LOGGING_LEVEL" not in os.environ:  # its INFO lines on a new database
            logging.getLogger("mlflow").setLevel(logging.WARNING)
        self._experiment_id = ""
        self.runs: dict[RunInfo, str] = {}  # zoo's run -> MLflow's run id
        self.parents: dict[ComparisonInfo, str] = {}
        self.ending: dict[RunInfo, str] = {}  # a diverged run's status, for its end
        self.pending: dict[RunInfo, list[Metric]] = {}  # a compared seed's metrics
        self.client = self._connect()

    @bounded
    def _connect(self) -> MlflowClient:
        """The client, its experiment found or created: the store's one check at start."""
        client = MlflowClient(tracking_uri=self.uri)
        try:
            found = client.get_experiment_by_name(self.experiment)
        except Exception as exc:
            why = unreachable(exc) if self.uri.startswith(("http://", "https://")) else None
            if why is None:
                raise
            raise ConfigError(
                f"logger 'mlflow': the tracking server {self.uri} (MLFLOW_TRACKING_URI) {why}; "
                f"start it, point MLFLOW_TRACKING_URI at one that runs, or unset it to log to "
                f"{DEFAULT_URI} here"
            ) from None
        if found is not None:
            self._experiment_id = found.experiment_id
        else:
            location = artifact_location(self.uri)
            self._experiment_id = client.create_experiment(self.experiment, location)
        return client

    @zoo.hookimpl
    @bounded
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
    @bounded
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
    @bounded
    def on_log_point(self, run: RunInfo, epoch: int, metrics: Mapping[str, float]) -> None:
        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, epoch) for key, value in metrics.items()]
        if run.comparison is not None:  # its points come all at once: send them at its end
            self.pending.setdefault(run, []).extend(batch)
        else:
            self.client.log_batch(self.runs[run], metrics=batch)

    @zoo.hookimpl
    @bounded
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
    @bounded
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
    @bounded
    def on_comparison_end(self, comparison: ComparisonInfo, status: str) -> None:
        run_id = self.parents.pop(comparison, None)
        if run_id is not None:
            self.client.set_terminated(run_id, ENDED[status])

    def _flush(self, run: RunInfo) -> None:
        metrics = self.pending.pop(run, [])
        for start in range(0, len(metrics), MOST_METRICS):
            batch = metrics[start : start + MOST_METRICS]
            self.client.log_batch(self.runs[run], metrics=batch)


def unreachable(exc: BaseException) -> str | None:
    """Why a server did not answer, from the OSError at the root of MLflow's error; None for
    any other error (an answer that refuses is MLflow's own message)."""
    chain = [exc]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and cause not in chain:
        chain.append(cause)
    if any(isinstance(cause, TimeoutError) for cause in chain):
        return f"did not answer within {os.environ.get('MLFLOW_HTTP_REQUEST_TIMEOUT')} s"
    if any(isinstance(cause, ConnectionRefusedError) for cause in chain):
        return "refused the connection"
    if len(chain) > 1 and isinstance(chain[-1], OSError):
        return f"could not be reached ({chain[-1]})"
    return None


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
