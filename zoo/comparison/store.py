"""A ``zoo compare --out`` folder: the request first, then each finished chunk of seeds.

So an interrupted comparison keeps what it finished, and ``--resume`` trains only the rest.
Every file is written atomically and loads with ``weights_only=True``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.comparison.execute import JobResult
from zoo.comparison.plan import Job
from zoo.errors import RunFolderError
from zoo.runs import schema
from zoo.runs.files import remove_leftovers, write_atomic
from zoo.runs.folder import load_safely, read_json, write_json
from zoo.training.records import LogRow, RunSummary

NEWER_KEYS = ("grid", "exact", "vary")  # a folder written before sweeps has none of them
# The accuracy whose first epoch is reported: "reach", called "target" in older folders.
REACH_KEYS = ("reach", "target")


class ComparisonFolder:
    REQUEST = "compare.json"
    PARTS = "parts"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def start(self, request: dict[str, Any]) -> None:
        write_json(self.path / self.REQUEST, {"format": 1, **request})
        (self.path / self.PARTS).mkdir(exist_ok=True)

    def request(self) -> dict[str, Any]:
        """compare.json, checked field by field (one line naming the field if it is off)."""
        path = self.path / self.REQUEST
        data = read_json(path)
        try:
            checked = schema.fields(data, "", REQUEST_FIELDS, exact=False)
            extra = sorted(set(data) - set(REQUEST_FIELDS) - set(NEWER_KEYS) - set(REACH_KEYS))
            if extra:
                raise schema.SchemaError(extra[0], "unknown field")
            reach = [key for key in REACH_KEYS if key in data]
            if len(reach) != 1:
                raise schema.SchemaError("reach", "missing" if not reach else "given twice")
            schema.number(0, 100)(data[reach[0]], reach[0])
            schema.optional(schema.mapping)(data.get("grid"), "grid")
            schema.optional(schema.boolean)(data.get("exact"), "exact")
            schema.optional(schema.items(schema.one_of("init", "split", "order"), 1, 3))(
                data.get("vary"), "vary"
            )
            if len(set(checked["seeds"])) != len(checked["seeds"]):
                raise schema.SchemaError("seeds", "lists a seed twice")
        except schema.SchemaError as exc:
            raise RunFolderError(f"{path}: not a zoo compare request ({exc})") from None
        request = {k: v for k, v in data.items() if k not in ("format", "target")}
        return {**request, "reach": data[reach[0]]}

    def save(self, job_index: int, part: JobResult) -> None:
        record = {
            "job": job_index,
            "records": [summary.to_dict() for summary in part.records],
            "histories": [[row.to_dict() for row in history] for history in part.histories],
            "states": part.states,
            "batched": part.batched,
            "seconds": part.seconds,
            "features": part.features,
        }
        buffer = io.BytesIO()
        torch.save(record, buffer)
        name = f"{job_index}-{part.records[0].seed}.pt"
        write_atomic(self.path / self.PARTS / name, buffer.getvalue())

    def load(self, jobs: Sequence[Job]) -> dict[int, list[JobResult]]:
        """The finished chunks of ``jobs``, each checked; a damaged or foreign part is refused.

        There can be no more parts than seeds, and no seed in two parts.
        """
        finished: dict[int, list[JobResult]] = {}
        remove_leftovers(self.path / self.PARTS)
        paths = sorted((self.path / self.PARTS).glob("*.pt"))
        seeds = sum(len(job.seeds) for job in jobs)
        if len(paths) > seeds:
            raise RunFolderError(
                f"{self.path / self.PARTS}: {len(paths)} parts for {seeds} seeds; "
                "this is not the folder of this comparison"
            )
        owners: dict[tuple[int, int], Path] = {}  # (job, seed) -> the part that holds it
        shapes: dict[int, dict[str, torch.Tensor]] = {}
        for path in paths:
            data = load_safely(path, "compare part")
            try:
                index, part = _part(data, jobs, shapes)
            except schema.SchemaError as exc:
                raise RunFolderError(f"{path}: not a part of this comparison ({exc})") from None
            for record in part.records:
                other = owners.setdefault((index, record.seed), path)
                if other != path:
                    raise RunFolderError(
                        f"{path}: seed {record.seed} of {part.job.model} is also in "
                        f"{other.name}; remove one of the two parts"
                    )
            finished.setdefault(index, []).append(part)
        return finished


def _record(value: Any, field: str) -> RunSummary:
    """A seed's summary; a part written before a field existed lacks it (its default)."""
    given = value if isinstance(value, dict) else {}
    newer = {key: check for key, check in NEWER_RECORD_FIELDS.items() if key in given}
    return RunSummary(**schema.fields(value, field, {**RECORD_FIELDS, **newer}))


def _part(
    data: Any, jobs: Sequence[Job], shapes: dict[int, dict[str, torch.Tensor]]
) -> tuple[int, JobResult]:
    fields = {**PART_FIELDS, "job": schema.whole(0, len(jobs) - 1)}
    checked = schema.fields(data, "", fields)
    index = checked["job"]
    job = jobs[index]
    records: list[RunSummary] = checked["records"]
    for name in ("histories", "states"):
        if len(checked[name]) != len(records):
            raise schema.SchemaError(
                name, f"{len(checked[name])} entries for {len(records)} records"
            )
    for position, record in enumerate(records):
        if record.seed not in job.seeds or (record.model, record.dataset) != (
            job.model,
            job.dataset,
        ):
            raise schema.SchemaError(
                f"records[{position}]",
                f"seed {record.seed} of {record.model} on {record.dataset} is not in the request",
            )
    if checked["features"] != job.experiment.split.features:
        raise schema.SchemaError("features", f"{checked['features']} is not the data's")
    if index not in shapes:  # the weights a model of this job has
        shapes[index] = job.experiment.build(job.seeds[0]).state_dict()
    for position, state in enumerate(checked["states"]):
        schema.shaped_like(state, f"states[{position}]", shapes[index])
    part = JobResult(
        job,
        records,
        [[LogRow(**row) for row in history] for history in checked["histories"]],
        checked["states"],
        checked["batched"],
        checked["seconds"],
        checked["features"],
    )
    return index, part


_text_list = schema.items(schema.text, 1, 10_000)


def _paths(value: Any, field: str) -> Any:
    return schema.text(value, field) if isinstance(value, str) else _text_list(value, field)


REQUEST_FIELDS: dict[str, schema.Check] = {
    "format": schema.one_of(1),
    "models": _text_list,
    "datasets": schema.optional(_text_list),
    "seeds": schema.items(schema.whole(0, 2**63 - 1), 1, 10**6),
    "baselines": schema.boolean,
    "settings": schema.settings,
    "registry": schema.optional(_paths),  # the user's catalogues (one, in older folders)
}
_loss = schema.optional(schema.number(finite=False))
RECORD_FIELDS: dict[str, schema.Check] = {
    "model": schema.text,
    "builds": schema.optional(schema.text),
    "dataset": schema.text,
    "task": schema.one_of("binary", "multi-class"),
    "epochs": schema.optional(schema.whole(0, 10**9)),
    "train_acc": schema.number(0, 100),
    "test_acc": schema.number(0, 100),
    "train_loss": _loss,
    "test_loss": _loss,
    "seconds": schema.number(0),
    "device": schema.text,
    "seed": schema.whole(0, 2**63 - 1),
    "params": schema.optional(schema.whole(0)),
    "status": schema.one_of("completed", "diverged"),
    "run_dir": schema.optional(schema.text),
}
NEWER_RECORD_FIELDS: dict[str, schema.Check] = {
    # since feature scaling
    "majority_acc": schema.optional(schema.number(0, 100)),
    "learned_nothing": schema.boolean,
    "warning": schema.optional(schema.text),
    # since validation splits
    "val_acc": schema.optional(schema.number(0, 100)),
    "val_loss": _loss,
    "best_epoch": schema.optional(schema.whole(0, 10**9)),
    "stopped_early": schema.boolean,
}
PART_FIELDS: dict[str, schema.Check] = {
    "records": schema.items(_record, least=1),
    "histories": schema.items(schema.log_rows, least=1),
    "states": schema.items(schema.state_dict),
    "batched": schema.boolean,
    "seconds": schema.number(0),
    "features": schema.whole(1, 10**9),
}
