"""A ``zoo compare --out`` folder: the request first, then each finished chunk of seeds.

So an interrupted comparison keeps what it finished, and ``--resume`` trains only the rest.
Every file is written atomically and loads with ``weights_only=True``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.comparison.execute import JobResult
from zoo.comparison.plan import Job
from zoo.errors import RunFolderError
from zoo.runs import schema
from zoo.runs.bounded import check_regular
from zoo.runs.files import remove_leftovers, write_atomic
from zoo.runs.folder import load_safely, read_json, write_json
from zoo.training.records import LogRow, RunSummary

NEWER_KEYS = ("grid", "exact", "vary")  # a folder written before sweeps has none of them
# The accuracy whose first epoch is reported: "reach", called "target" in older folders.
REACH_KEYS = ("reach", "target")


class ComparisonFolder:
    REQUEST = "compare.json"
    RESULTS = "results.json"
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
        for named in _named_files(data):  # read by their own readers, which would wait on a FIFO
            check_regular(named, f"{path} names it; put it back to use the comparison")
        request = {k: v for k, v in data.items() if k not in ("format", "target")}
        return {**request, "reach": data[reach[0]]}

    def results(self) -> dict[str, Any]:
        """results.json, checked field by field: every field a report reads."""
        path = self.path / self.RESULTS
        data = read_json(path)
        if isinstance(data, dict) and "target" in data and "reach" not in data:
            raise RunFolderError(
                f"{path}: written by an older zoo, without the paired statistics; recompute "
                f"it (nothing is trained again) with: zoo compare --resume {self.path}"
            )
        try:
            return schema.fields(data, "", RESULTS_FIELDS, exact=False)
        except schema.SchemaError as exc:
            raise RunFolderError(f"{path}: not the results of a zoo comparison ({exc})") from None

    def files(self) -> list[Path]:
        """The files a report or a resume reads: what no output may replace."""
        found = [self.path / self.REQUEST, self.path / self.RESULTS]
        return [*(p for p in found if p.exists()), *sorted((self.path / self.PARTS).glob("*.pt"))]

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

    def tidy(self) -> None:
        """Remove the temporary files a killed writer left in parts/: only once a resume
        has checked everything it reads, so a refused one changes nothing."""
        remove_leftovers(self.path / self.PARTS)

    def load(self, jobs: Sequence[Job]) -> dict[int, list[JobResult]]:
        """The finished chunks of ``jobs``, each checked; a damaged or foreign part is refused.

        There can be no more parts than seeds, and no seed in two parts. Nothing is changed
        (see :meth:`tidy`).
        """
        finished: dict[int, list[JobResult]] = {}
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


def _named_files(request: dict[str, Any]) -> list[str]:
    """The files a compare.json names: its catalogues, and data files (CSV datasets)."""
    registry = request.get("registry") or []
    named = [registry] if isinstance(registry, str) else list(registry)
    named += [name for name in request.get("datasets") or [] if name.endswith(".csv")]
    paths = [request["settings"].get("dataset_params", {}).get("path")]
    paths += (request.get("grid") or {}).get("dataset.path", [])
    named += [path for path in paths if isinstance(path, str)]
    return [path for path in named if os.path.lexists(path)]  # a missing one: its reader says


def _record(value: Any, field: str) -> RunSummary:
    """A seed's summary; a part written before a field existed lacks it (its default)."""
    return RunSummary(**schema.fields(value, field, schema.summary_checks(value)))


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
PART_FIELDS: dict[str, schema.Check] = {
    "records": schema.items(_record, least=1),
    "histories": schema.items(schema.log_rows, least=1),
    "states": schema.items(schema.state_dict),
    "batched": schema.boolean,
    "seconds": schema.number(0),
    "features": schema.whole(1, 10**9),
}

_percent = schema.number(0, 100)
_STATS = {"mean": _percent, "std": _percent, "min": _percent, "max": _percent}
_INTERVAL = {
    "estimate": schema.number(),
    "low": schema.optional(schema.number()),
    "high": schema.optional(schema.number()),
    "method": schema.text,
}


def _result(value: Any, field: str) -> dict[str, Any]:
    checks = {**schema.summary_checks(value), **RESULT_FIELDS}
    checked = schema.fields(value, field, checks, exact=False)
    return {**value, **checked}  # a newer zoo's fields kept as they are


def _fields_of(
    checks: dict[str, schema.Check], newer: dict[str, schema.Check] | None = None
) -> schema.Check:
    """A mapping with ``checks``' fields, and ``newer``'s where it has them (a folder written
    before they existed has not); other fields (a sweep's settings) are kept as they are."""

    def check(value: Any, field: str) -> dict[str, Any]:
        known = {
            **checks,
            **{k: c for k, c in (newer or {}).items() if isinstance(value, dict) and k in value},
        }
        checked = schema.fields(value, field, known, exact=False)
        return {**value, **checked}

    return check


RESULT_FIELDS: dict[str, schema.Check] = {
    "epochs_to_target": schema.optional(schema.whole(0, 10**9)),
    "baseline": schema.boolean,
}
SUMMARY_ROW_FIELDS: dict[str, schema.Check] = {  # a failed baseline: no numbers, 0 seeds
    "model": schema.text,
    "dataset": schema.text,
    "params": schema.optional(schema.whole(0)),
    "seeds": schema.whole(0, 10**6),
    "train_acc": schema.optional(_fields_of(_STATS)),
    "test_acc": schema.optional(_fields_of(_STATS)),
    "iqm": schema.optional(_fields_of(_INTERVAL)),
    "train_loss": schema.SUMMARY_FIELDS["train_loss"],
    "test_loss": schema.SUMMARY_FIELDS["test_loss"],
    "epochs_to_target": schema.optional(schema.number(0)),
    "reached_target": schema.whole(0, 10**6),
    "seconds": schema.number(0),
    "batched": schema.boolean,
    "diverged": schema.whole(0, 10**6),
    "baseline": schema.boolean,
    "verdict": schema.phrase,
    "difference": schema.optional(_fields_of(_INTERVAL)),
    "p_improvement": schema.optional(schema.number(0, 1)),
    "varied": schema.items(schema.one_of("init", "split", "order"), 0, 3),
}
NEWER_SUMMARY_ROW_FIELDS: dict[str, schema.Check] = {
    "val_acc": schema.optional(_fields_of(_STATS)),  # since validation splits
    "majority_acc": schema.optional(_percent),  # since the majority rate in every block
    "learned_nothing": schema.whole(0, 10**6),
}
RESULTS_FIELDS: dict[str, schema.Check] = {  # Comparison.to_json(); newer fields may join
    "seeds": REQUEST_FIELDS["seeds"],
    "reach": _percent,
    "vary": schema.items(schema.one_of("init", "split", "order"), 1, 3),
    "grid": schema.optional(schema.mapping),
    "results": schema.items(_result),
    "summary": schema.items(_fields_of(SUMMARY_ROW_FIELDS, NEWER_SUMMARY_ROW_FIELDS), 1),
}
