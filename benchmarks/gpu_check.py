"""Device checks for a machine with a CUDA GPU (CI has none; run this where there is one).

Trains, evaluates, predicts, plots and compares on the GPU through the command line and the
Python API, checks the device errors and the engine (fast stacked kernels, CUDA graphs), then
runs gpu_scale.py (the issue #10 targets, timed against a torch.func.vmap ensemble in the same
run) and scaling.py on the GPU (the CPU's scaling table: microseconds per model-epoch for
K = 1 to 1000 seeds, exact and fast, against the plain loop, the vmap ensemble and the
arithmetic limit at the device's GEMM rate). Prints one PASS/FAIL line per check and exits
non-zero if any failed.

    python benchmarks/gpu_check.py            # about 15 minutes on an H100
    python benchmarks/gpu_check.py --checks   # the checks only
    python benchmarks/gpu_check.py --scaling  # the scaling table only (one round)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gpu_scale
import scaling
import torch

import zoo
from zoo.config.checks import open_zoo
from zoo.config.resolve import resolve
from zoo.training.engine import Engine
from zoo.training.experiment import Experiment
from zoo.training.trainer import Trainer

RESULTS: list[bool] = []


def check(name: str, passed: bool, detail: str = "") -> None:
    RESULTS.append(passed)
    print(f"{'PASS' if passed else 'FAIL'}  {name}{'  ' + detail if detail else ''}", flush=True)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zoo", *args], capture_output=True, text=True, cwd=cwd
    )


def main() -> int:
    print(
        f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}, "
        f"devices: {torch.cuda.device_count()}, "
        f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-'}"
    )
    work = Path(tempfile.mkdtemp())

    trained = cli("train", "circle-v2", "--json", "--out", "gpu-run", cwd=work)
    summary = json.loads(trained.stdout) if trained.returncode == 0 else {}
    check(
        "zoo train circle-v2 picks the GPU by itself (--device auto)",
        summary.get("device", "").startswith("cuda"),
        f"device={summary.get('device')}",
    )
    check(
        "circle-v2 on the GPU reaches >= 99% test accuracy",
        summary.get("test_acc", 0) >= 99.0,
        f"test_acc={summary.get('test_acc')}",
    )
    check(
        "the decision boundary is drawn from a model on the GPU",
        (work / "gpu-run" / "boundary.png").is_file(),
        trained.stderr.strip()[-200:],
    )

    evaluated = cli("eval", "gpu-run", "--json", cwd=work)
    metrics = json.loads(evaluated.stdout) if evaluated.returncode == 0 else {}
    same = all(
        metrics.get(k) == summary.get(k)
        for k in ("train_acc", "test_acc", "train_loss", "test_loss")
    )
    check(
        "zoo eval on the GPU reproduces the summary exactly",
        same,
        f"{metrics.get('test_loss')} vs {summary.get('test_loss')}",
    )
    on_cpu = cli("eval", "gpu-run", "--device", "cpu", "--json", cwd=work)
    cpu_metrics = json.loads(on_cpu.stdout) if on_cpu.returncode == 0 else {}
    check(
        "a GPU run evaluates on the CPU with the same accuracy",
        cpu_metrics.get("test_acc") == summary.get("test_acc"),
        f"loss difference {abs(cpu_metrics.get('test_loss', 0) - summary.get('test_loss', 0)):.2e}",
    )

    (work / "points.csv").write_text("x1,x2\n0,0\n1,0\n")
    predicted = cli("predict", "gpu-run", "--input", "points.csv", cwd=work)
    check(
        "zoo predict on the GPU",
        predicted.returncode == 0
        and predicted.stdout.splitlines()[1:]
        and predicted.stdout.splitlines()[1].startswith("1,"),
        predicted.stdout.replace("\n", " | ") + predicted.stderr.strip(),
    )

    missing = cli("train", "circle-v2", "--device", f"cuda:{torch.cuda.device_count()}", cwd=work)
    check(
        "a GPU index that does not exist is one clear line",
        missing.returncode == 1
        and len(missing.stderr.strip().splitlines()) == 1
        and "does not exist" in missing.stderr,
        missing.stderr.strip(),
    )

    compared = zoo.compare(["circle-v0", "circle-v2"], seeds=5, device="cuda", exact=True)
    rows = {row["model"]: row for row in compared.summary}
    check(
        "zoo compare on the GPU: circle-v2 >= 99% mean, circle-v0 near 50%",
        rows["circle-v2"]["test_acc"]["mean"] >= 99.0
        and 40 <= rows["circle-v0"]["test_acc"]["mean"] <= 60,
        " / ".join(f"{rows[m]['test_acc']['mean']:.2f}" for m in ("circle-v2", "circle-v0")),
    )
    check("compared seeds trained together on the GPU", compared.job_results[0].batched)
    solo = zoo.train("circle-v2", seed=44, device="cuda")
    record = next(r for r in compared.results if r["model"] == "circle-v2" and r["seed"] == 44)
    check(
        "an exactly compared GPU seed (--exact) matches its solo GPU run (accuracy; loss 1e-4)",
        record["test_acc"] == solo.summary["test_acc"]
        and abs(record["test_loss"] - solo.summary["test_loss"]) < 1e-4,
        f"loss {record['test_loss']:.6f} vs {solo.summary['test_loss']:.6f}; "
        f"bit for bit: {record['test_loss'] == solo.summary['test_loss']}",
    )
    engine = gpu_scale.engine_report("cuda")
    check(
        "compare on CUDA: fast stacked kernels, each step a replayed CUDA graph",
        engine == "exact=False, graphs: yes",
        engine,
    )
    check_solo_graphs()

    args = ["train", "circle-v2", "--epochs", "3000", "--checkpoint-every", "500", "--no-plot"]
    reference = cli(*args, "--out", "whole", cwd=work)
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", *args, "--out", "cut"],
        cwd=work,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    next(line for line in process.stdout if line.startswith("Epoch: 0"))
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stopped = process.communicate()
    resumed = cli("train", "--resume", "cut", "--no-plot", "--json", cwd=work)
    check(
        "Ctrl-C on the GPU stops with a checkpoint, and --resume finishes the run",
        process.returncode == 130 and resumed.returncode == 0 and reference.returncode == 0,
        stopped.strip()[-160:] + resumed.stderr.strip()[-200:],
    )
    if resumed.returncode == 0 and reference.returncode == 0:
        whole = torch.load(work / "whole" / "weights.pt", weights_only=True)
        cut = torch.load(work / "cut" / "weights.pt", weights_only=True)
        same = all(torch.equal(whole[k], cut[k]) for k in whole)
        print(f"INFO  resumed GPU run equals the uninterrupted one bit for bit: {same}")
        a = json.loads((work / "whole" / "summary.json").read_text())
        b = json.loads(resumed.stdout)
        check(
            "the resumed GPU run has the uninterrupted run's accuracy",
            a["test_acc"] == b["test_acc"],
            f"{a['test_loss']} vs {b['test_loss']}",
        )

    return 0 if all(RESULTS) else 1


def check_solo_graphs() -> None:
    """zoo train on CUDA replays a captured graph per epoch; the same run eagerly, compared."""
    plugins, catalogue = open_zoo(None)
    config, spec = resolve("circle-v2", plugins, catalogue, {"device": "cuda", "epochs": 300})
    experiment = Experiment.prepare(config, spec, plugins, torch.device("cuda"))
    runs = []
    for forced_eager in (False, True):
        model = experiment.build(config.seed)
        trainer = Trainer(model, experiment.data, config)
        if forced_eager:
            trainer.engine = Engine(True, "eager, for the comparison")
        trainer.fit()
        runs.append((model.state_dict(), trainer.captured))
    (graphed, captured), (eager, _) = runs
    check(
        "solo zoo train on CUDA: each epoch replays one captured graph",
        captured.eager_because is None and captured.calls == 300,
        f"eager because: {captured.eager_because}",
    )
    same = all(torch.equal(graphed[k], eager[k]) for k in graphed)
    print(f"INFO  the graphed solo run equals the eager one bit for bit: {same}")


def timings() -> None:
    timings = {}
    for device in ("cpu", "cuda"):
        zoo.train("circle-v2", device=device, epochs=50)
        timings[device] = min(zoo.train("circle-v2", device=device)["seconds"] for _ in range(3))
    print(f"INFO  circle-v2, 1000 epochs: cpu {timings['cpu']:.2f} s, cuda {timings['cuda']:.2f} s")
    for seeds in (10, 100):
        start = time.perf_counter()
        zoo.compare(["circle-v2"], seeds=seeds, device="cuda")
        seconds = time.perf_counter() - start
        print(f"INFO  zoo compare circle-v2 --seeds {seeds} on cuda: {seconds:.2f} s")


if __name__ == "__main__":
    if "--scaling" in sys.argv:
        scaling.main("cuda", rounds=1)
        sys.exit(0)
    status = main()
    if "--checks" not in sys.argv:
        timings()
        gpu_scale.main()
        print("== scaling.py on cuda, one round ==", flush=True)
        scaling.main("cuda", rounds=1)
    sys.exit(status)
