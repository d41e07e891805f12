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
from zoo.runs.files import remove_leftovers, write_atomic
from zoo.runs.folder import load_safely, read_json, write_json
from zoo.training.records import LogRow, RunSummary

REQUEST_KEYS = {"models", "datasets", "seeds", "target", "baselines", "settings", "registry"}
NEWER_KEYS = {"grid", "exact"}  # a folder written before sweeps has none


class ComparisonFolder:
    REQUEST = "compare.json"
    PARTS = "parts"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def start(self, request: dict[str, Any]) -> None:
        write_json(self.path / self.REQUEST, {"format": 1, **request})
        (self.path / self.PARTS).mkdir(exist_ok=True)

    def request(self) -> dict[str, Any]:
        data = read_json(self.path / self.REQUEST)
        if (
            not isinstance(data, dict)
            or not {"format", *REQUEST_KEYS} <= set(data) <= {"format", *REQUEST_KEYS, *NEWER_KEYS}
            or data["format"] != 1
        ):
            raise RunFolderError(f"{self.path / self.REQUEST}: not a zoo compare request")
        return {k: v for k, v in data.items() if k != "format"}

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
        """The finished chunks of ``jobs``; a damaged or foreign part is refused."""
        finished: dict[int, list[JobResult]] = {}
        remove_leftovers(self.path / self.PARTS)
        for path in sorted((self.path / self.PARTS).glob("*.pt")):
            data = load_safely(path, "compare part")
            try:
                index, part = _part(data, jobs)
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise RunFolderError(f"{path}: not a part of this comparison ({exc})") from None
            finished.setdefault(index, []).append(part)
        return finished


def _part(data: Any, jobs: Sequence[Job]) -> tuple[int, JobResult]:
    index = data["job"]
    job = jobs[index]
    part = JobResult(
        job,
        [RunSummary(**record) for record in data["records"]],
        [[LogRow(**row) for row in history] for history in data["histories"]],
        data["states"],
        data["batched"],
        data["seconds"],
        data["features"],
    )
    if not all(r.seed in job.seeds for r in part.records):
        raise ValueError("seeds outside the request")
    return index, part
