"""Training events as hooks (issue #11): what a logger is told, and what a failing one costs."""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import warnings

import pytest
from conftest import assert_one_line_error

import zoo
from zoo.errors import (
    ConfigError,
    HookWarning,
    PluginError,
    TrainingDiverged,
    TrainingInterrupted,
    UnknownNameError,
)
from zoo.hookspecs import ComparisonInfo, RunInfo


class Recorder:
    """A logger that keeps every event it is told, as (hook, arguments)."""

    def __init__(self):
        self.events = []

    @zoo.hookimpl
    def on_run_start(self, run):
        self.events.append(("start", run))

    @zoo.hookimpl
    def on_log_point(self, run, epoch, metrics):
        self.events.append(("log", run, epoch, dict(metrics)))

    @zoo.hookimpl
    def on_run_stopped(self, run, reason, message):
        self.events.append(("stopped", run, reason, message))

    @zoo.hookimpl
    def on_run_end(self, run, summary, history):
        files = sorted(os.listdir(run.run_dir)) if run.run_dir else []
        self.events.append(("end", run, dict(summary), list(history), files))

    @zoo.hookimpl
    def on_comparison_start(self, comparison):
        self.events.append(("comparison start", comparison))

    @zoo.hookimpl
    def on_comparison_end(self, comparison, status, message):
        self.events.append(("comparison end", comparison, status, message))

    def kinds(self):
        return [event[0] for event in self.events]

    def epochs(self):
        return [event[2] for event in self.events if event[0] == "log"]


def test_a_logger_is_told_the_start_each_log_point_and_the_end_of_a_run(tmp_path):
    recorder = Recorder()
    run = zoo.train("circle-v2", epochs=20, log_every=5, out=tmp_path / "run", loggers=[recorder])
    assert recorder.kinds() == ["start", "log", "log", "log", "log", "log", "end"]
    assert recorder.epochs() == [0, 5, 10, 15, 20]  # log points only, never between
    info = recorder.events[0][1]
    assert isinstance(info, RunInfo)
    assert all(event[1] is info for event in recorder.events)  # one record for the whole run
    assert (info.name, info.model, info.dataset, info.seed) == (
        "circle-v2 on circles, seed 42",
        "circle-v2",
        "circles",
        42,
    )
    assert info.settings == run.config.settings()  # the resolved settings
    assert info.settings["epochs"] == 20 and info.settings["momentum"] == 0.9
    assert info.run_dir == tmp_path / "run" and info.comparison is None
    last = recorder.events[5]
    assert last[3] == {k: v for k, v in run.history[-1].to_dict().items() if k != "epoch"}
    _, _, summary, history, _ = recorder.events[-1]
    assert summary == run.summary and summary["status"] == "completed"
    assert history == [row.to_dict() for row in run.history]


def test_history_csv_is_written_by_zoos_own_on_run_end_just_before_summary_json(tmp_path):
    recorder = Recorder()
    zoo.train("circle-v2", epochs=20, out=tmp_path / "run", loggers=[recorder], plot=False)
    _, _, _, history, files_at_end = recorder.events[-1]
    assert "history.csv" in files_at_end and "summary.json" not in files_at_end
    with open(tmp_path / "run" / "history.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [{k: float(v) for k, v in row.items()} for row in rows] == history
    assert (tmp_path / "run" / "summary.json").is_file()


def test_a_run_without_a_folder_is_told_too():
    recorder = Recorder()
    zoo.train("circle-v0", epochs=10, loggers=[recorder])
    assert recorder.kinds()[0] == "start" and recorder.kinds()[-1] == "end"
    assert recorder.events[0][1].run_dir is None


def test_a_diverged_run_is_told_as_stopped_then_ended_with_its_kept_weights(tmp_path):
    recorder = Recorder()
    with pytest.raises(TrainingDiverged):
        zoo.train("circle-v2", lr=1e30, epochs=50, log_every=1, out=tmp_path / "run",
                  loggers=[recorder])  # fmt: skip
    assert recorder.kinds()[-2:] == ["stopped", "end"]
    _, _, reason, message = recorder.events[-2]
    assert reason == "diverged" and "training diverged" in message
    summary = recorder.events[-1][2]
    assert summary["status"] == "diverged"
    assert (tmp_path / "run" / "history.csv").is_file()


class Interrupter(Recorder):
    """Presses Ctrl-C (a real SIGINT to this process) at epoch 10."""

    @zoo.hookimpl
    def on_log_point(self, run, epoch, metrics):
        super().on_log_point(run, epoch, metrics)
        if epoch == 10:
            os.kill(os.getpid(), signal.SIGINT)


def test_an_interrupted_run_is_told_as_stopped_and_not_ended(tmp_path):
    recorder = Interrupter()
    with pytest.raises(TrainingInterrupted):
        zoo.train("circle-v2", epochs=100, log_every=5, out=tmp_path / "run", loggers=[recorder])
    assert recorder.kinds()[-1] == "stopped"
    _, _, reason, message = recorder.events[-1]
    assert reason == "interrupted" and "zoo train --resume" in message
    assert "end" not in recorder.kinds()


class Failing(Recorder):
    def __init__(self, error):
        super().__init__()
        self.error = error

    @zoo.hookimpl
    def on_log_point(self, run, epoch, metrics):
        super().on_log_point(run, epoch, metrics)
        raise self.error


@pytest.mark.parametrize("error", [RuntimeError("dashboard down"), SystemExit(3)])
def test_a_failing_logger_is_reported_once_and_dropped_and_the_run_is_kept(tmp_path, error):
    failing, watcher = Failing(error), Recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zoo.train("circle-v2", epochs=30, out=tmp_path / "run", loggers=[failing, watcher])
    reported = [w for w in caught if issubclass(w.category, HookWarning)]
    assert len(reported) == 1  # once, not once per log point
    text = str(reported[0].message)
    assert "\n" not in text
    assert text.startswith("logger Failing failed in on_log_point: ")
    assert text.endswith("training goes on without it")
    assert failing.kinds() == ["start", "log"]  # dropped as a whole: none of its hooks again
    assert watcher.epochs() == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]  # others unaffected
    assert {"history.csv", "summary.json", "weights.pt"} <= set(os.listdir(tmp_path / "run"))


def test_keyboard_interrupt_in_a_hook_is_not_swallowed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        zoo.train("circle-v0", epochs=10, loggers=[Failing(KeyboardInterrupt())])


def test_with_strict_plugins_a_failing_hook_is_an_error_and_the_others_hear_why(monkeypatch):
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    watcher = Recorder()
    with pytest.raises(PluginError, match="failed in on_log_point: RuntimeError: boom"):
        zoo.train("circle-v0", epochs=10, loggers=[Failing(RuntimeError("boom")), watcher])
    _, _, reason, message = watcher.events[-1]
    assert reason == "failed" and "ZOO_STRICT_PLUGINS" in message


def test_compare_tells_each_seed_as_a_run_of_the_comparison():
    recorder = Recorder()
    zoo.compare(["circle-v0", "circle-v2"], seeds=2, epochs=10, workers=1, loggers=[recorder])
    kinds = recorder.kinds()
    assert kinds[0] == "comparison start" and kinds[-1] == "comparison end"
    comparison = recorder.events[0][1]
    assert isinstance(comparison, ComparisonInfo)
    assert comparison.models == ("circle-v0", "circle-v2") and comparison.seeds == (42, 43)
    assert recorder.events[-1][1:] == (comparison, "finished", None)
    runs = {event[1].name: event[1] for event in recorder.events if event[0] == "start"}
    assert sorted(runs) == [
        "circle-v0 on circles, seed 42",
        "circle-v0 on circles, seed 43",
        "circle-v2 on circles, seed 42",
        "circle-v2 on circles, seed 43",
    ]
    for run in runs.values():
        told = [event for event in recorder.events if event[1] is run]
        assert next(event[0] for event in told) == "start" and told[-1][0] == "end"
        assert run.comparison is comparison and run.run_dir is None
        assert run.settings["seed"] == run.seed


def test_compare_in_worker_processes_is_told_here(tmp_path):
    recorder = Recorder()
    zoo.compare(["circle-v0", "circle-v2"], seeds=2, epochs=5, workers=2, loggers=[recorder])
    assert recorder.kinds().count("end") == 4  # workers need no logger: this process is told


def test_an_unknown_logger_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(UnknownNameError, match=r"unknown logger 'tensorbord' \(did you mean"):
        zoo.train("circle-v0", epochs=5, out=tmp_path / "run", loggers=["tensorbord"])
    assert not (tmp_path / "run").exists()


def test_a_hook_with_arguments_the_event_does_not_give_is_refused():
    class Misnamed:
        @zoo.hookimpl
        def on_log_point(self, run, step):
            pass

    with pytest.raises(PluginError, match=r"logger Misnamed: on_log_point\(run, step\)"):
        zoo.train("circle-v0", epochs=5, loggers=[Misnamed()])


def test_a_misspelt_event_hook_is_refused_with_a_suggestion():
    class Misspelt:
        @zoo.hookimpl
        def on_run_ended(self, run):
            pass

    with pytest.raises(
        PluginError, match="unknown hook 'on_run_ended' \\(did you mean 'on_run_end'"
    ):
        zoo.train("circle-v0", epochs=5, loggers=[Misspelt()])


def test_the_command_line_names_an_unknown_logger_and_lists_the_loggers(zoo_cli, tmp_path):
    for command in ("train", "compare"):
        line = assert_one_line_error(
            zoo_cli(command, "circle-v2", "--epochs", "5", "--logger", "mlfow"), status=1
        )
        assert "unknown logger 'mlfow' (did you mean 'mlflow'?)" in line
        assert "the loggers: mlflow, tensorboard" in line
    assert sorted(os.listdir(tmp_path)) == []  # nothing written, nothing trained


def test_an_installed_plugins_event_hooks_hear_every_run_and_a_broken_one_warns_once(
    zoo_cli, with_plugins, tmp_path
):
    told = tmp_path / "told.txt"
    env = {**with_plugins("event_listener", "broken_listener"), "ZOO_MISFITS_EVENTS": str(told)}
    # blob-v0 learns in 20 epochs: circle-v0 would add its own (true) learned-nothing line
    result = zoo_cli("train", "blob-v0", "--epochs", "20", "--out", "run", env=env)
    assert result.returncode == 0, result.stderr
    assert result.error_lines == [
        "zoo: warning: plugin 'broken_listener' failed in on_log_point: RuntimeError: "
        "dashboard unreachable (broken_listener.py:8); training goes on without it"
    ]
    assert told.read_text().splitlines() == [
        "start blob-v0 on blobs, seed 42 run",
        *[f"log {epoch}" for epoch in (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)],
        "end completed",
    ]
    assert (tmp_path / "run" / "summary.json").is_file()
    listing = json.loads(zoo_cli("plugins", "--json", env=env).stdout)
    plugins = {plugin["name"]: plugin for plugin in listing}
    assert plugins["event_listener"]["hooks"] == ["on_run_start", "on_log_point", "on_run_end"]


@pytest.mark.parametrize(
    ("logger", "error"),
    [
        (
            "tracker",
            "logger 'tracker' needs zoo_misfits_missing_tracker, which is not installed: "
            "pip install 'zoo-misfits[tracker]'",
        ),
        (
            "keyless",
            "logger 'keyless' could not start: RuntimeError: no API key in TRACKER_KEY "
            "(broken_loggers.py:12)",
        ),
    ],
)
def test_a_logger_that_cannot_start_is_one_line_and_nothing_trains(
    zoo_cli, with_plugins, tmp_path, logger, error
):
    result = zoo_cli("train", "circle-v0", "--logger", logger, env=with_plugins("broken_loggers"))
    assert_one_line_error(result, error, status=1)
    assert not (tmp_path / "runs").exists()


def test_loggers_must_be_names_or_objects_with_event_hooks():
    with pytest.raises(ConfigError, match="loggers: 5 is neither a logger's name nor an object"):
        zoo.train("circle-v0", epochs=5, loggers=[5])


def test_a_logger_that_exits_in_a_hook_is_a_warning_not_the_end_of_zoo(
    zoo_cli, with_plugins, tmp_path
):
    result = zoo_cli(
        "train",
        "blob-v0",
        "--epochs",
        "5",
        "--out",
        "run",
        "--logger",
        "quitter",
        env=with_plugins("broken_loggers"),
    )  # fmt: skip (blob-v0 learns in 5)
    assert result.returncode == 0, result.stderr
    assert result.error_lines == [
        "zoo: warning: logger 'quitter' failed in on_run_end: "
        "SystemExit: the plugin called sys.exit('logger gave up') "
        "(broken_loggers.py:18); training goes on without it"
    ]
    assert (tmp_path / "run" / "summary.json").is_file()


class Flaky(Recorder):
    def __init__(self, fails):
        super().__init__()
        self.fails = fails

    @zoo.hookimpl
    def on_log_point(self, run, epoch, metrics):
        super().on_log_point(run, epoch, metrics)
        if self.fails:
            raise RuntimeError("down")


def test_a_failing_logger_never_silences_another_of_its_class():
    failing, healthy = Flaky(fails=True), Flaky(fails=False)
    with pytest.warns(HookWarning, match="logger Flaky failed in on_log_point"):
        zoo.train("circle-v0", epochs=10, loggers=[failing, healthy])
    assert failing.epochs() == [0] and healthy.epochs() == list(range(11))


# -- pluggy's order and wrappers (tests/plugins/zoo-call-order) --------------------------------


class Plain:
    """A logger with plain implementations, told between the plugin's tryfirst and trylast."""

    def __init__(self, raises_at=None):
        self.raises_at = raises_at  # (hook, epoch) at which it raises KeyboardInterrupt

    @zoo.hookimpl
    def on_log_point(self, epoch):
        if self.raises_at == ("on_log_point", epoch):
            raise KeyboardInterrupt
        return f"logger {epoch}"

    @zoo.hookimpl
    def on_run_end(self):
        print("logger's on_run_end", file=sys.stderr)
        if self.raises_at == ("on_run_end", None):
            raise KeyboardInterrupt
        return "logger"


def told(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_pluggy_calls_tryfirst_then_the_rest_then_trylast_with_wrappers_around_them(
    plugins_in_process, tmp_path, capsys
):
    plugins_in_process("call_order")
    zoo.train("circle-v0", epochs=2, log_every=1, out=tmp_path / "run", loggers=[Plain()])
    assert told(capsys) == [
        "call_order: old-style wrapper, epoch 0: returned ['logger 0']",
        "call_order: old-style wrapper, epoch 1: returned ['logger 1']",
        "call_order: old-style wrapper, epoch 2: returned ['logger 2']",
        "call_order: wrapper, before the others",
        "call_order: tryfirst, history.csv written: True",  # zoo's own came first
        "logger's on_run_end",
        "call_order: trylast",
        "call_order: wrapper, after the others returned ['tryfirst', 'logger', 'trylast']",
    ]


@pytest.mark.parametrize(
    ("raises_at", "seen"),
    [
        (("on_log_point", 1), "call_order: old-style wrapper, epoch 1: raised KeyboardInterrupt"),
        (("on_run_end", None), "call_order: wrapper, after the others raised KeyboardInterrupt"),
    ],
)
def test_a_wrapper_sees_what_was_raised_inside_it_and_passes_it_on(
    plugins_in_process, capsys, raises_at, seen
):
    plugins_in_process("call_order")
    with pytest.raises(KeyboardInterrupt):
        zoo.train("circle-v0", epochs=2, log_every=1, loggers=[Plain(raises_at)])
    assert seen in told(capsys)


class Swallower:
    """Wrappers that try to swallow what is raised inside them."""

    @zoo.hookimpl(wrapper=True)
    def on_log_point(self):
        try:
            return (yield)
        except BaseException:
            return []

    @zoo.hookimpl(hookwrapper=True, specname="on_log_point")
    def old_style(self):
        outcome = yield
        outcome.force_result([])


def test_a_wrapper_cannot_swallow_ctrl_c():
    with pytest.raises(KeyboardInterrupt):
        zoo.train("circle-v0", epochs=2, log_every=1,
                  loggers=[Swallower(), Plain(("on_log_point", 1))])  # fmt: skip


class FailsBeforeYield:
    @zoo.hookimpl(wrapper=True)
    def on_log_point(self):
        raise RuntimeError("wrapper broke")
        yield


class FailsAfterYield:
    @zoo.hookimpl(wrapper=True)
    def on_log_point(self):
        yield
        raise RuntimeError("wrapper broke")


class OldStyleFailsAfterYield:
    @zoo.hookimpl(hookwrapper=True)
    def on_log_point(self):
        yield
        raise RuntimeError("wrapper broke")


class ReturnsFirst:
    @zoo.hookimpl(wrapper=True)
    def on_log_point(self, epoch):
        if epoch >= 0:
            return
        yield


class YieldsTwice:
    @zoo.hookimpl(wrapper=True)
    def on_log_point(self):
        yield
        yield


@pytest.mark.parametrize(
    ("wrapper", "error"),
    [
        (FailsBeforeYield, "RuntimeError: wrapper broke"),
        (FailsAfterYield, "RuntimeError: wrapper broke"),
        (OldStyleFailsAfterYield, "RuntimeError: wrapper broke"),
        (ReturnsFirst, "RuntimeError: a wrapper must yield once; it returned first"),
        (YieldsTwice, "RuntimeError: a wrapper must yield once; it yielded again"),
    ],
)
def test_a_failing_wrapper_is_reported_once_and_the_call_goes_on_without_it(wrapper, error):
    watcher = Recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zoo.train("circle-v0", epochs=5, log_every=1, loggers=[wrapper(), watcher])
    (reported,) = [str(w.message) for w in caught if issubclass(w.category, HookWarning)]
    assert reported.startswith(f"logger {wrapper.__name__} failed in on_log_point: {error}")
    assert watcher.epochs() == [0, 1, 2, 3, 4, 5]  # every log point, inside the wrapper or not
    assert watcher.kinds()[-1] == "end"


def test_a_wrapper_that_does_not_yield_is_refused_before_training(tmp_path):
    class NoYield:
        @zoo.hookimpl(wrapper=True)
        def on_log_point(self, run):
            pass

    with pytest.raises(PluginError, match=r"logger NoYield: on_log_point\(run\): a wrapper must"):
        zoo.train("circle-v0", epochs=5, out=tmp_path / "run", loggers=[NoYield()])
    assert not (tmp_path / "run").exists()


def test_an_unknown_hook_marked_optional_is_accepted_as_pluggy_promises():
    class Optional(Recorder):
        @zoo.hookimpl(optionalhook=True)
        def on_epoch_end(self, epoch):
            raise AssertionError("zoo has no on_epoch_end event")

    recorder = Optional()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zoo.train("blob-v0", epochs=5, loggers=[recorder])
    assert recorder.kinds()[-1] == "end"
