"""SIGTERM loses nothing already done: no half-written output, no MLflow run left RUNNING."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from paratype import interrupts, tracking
from paratype.config import PROJECT_ROOT, TrackingConfig
from paratype.tracking import store_lock

BIN = Path(sys.executable).parent


def _start(args: list[str], tmp: Path, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlruns.db"
    return subprocess.Popen(
        [str(BIN / args[0]), *args[1:]], cwd=PROJECT_ROOT, env=env, stderr=subprocess.PIPE, **kwargs
    )


def _ended(proc: subprocess.Popen) -> tuple[int, str]:
    """Exit status and the end of stderr, so that a failing assertion shows why."""
    _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr.decode()[-2000:]


def _wait_for(condition, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(
                f"the command ended first ({proc.returncode}): {proc.stderr.read().decode()[-300:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def _runs(tmp: Path):
    """The store's runs, read under the lock the jobs take to create it (reading a store that
    another process is still creating would run a second schema migration)."""
    uri = f"sqlite:///{tmp}/mlruns.db"
    if not (tmp / "mlruns.db").exists():
        return []
    with store_lock(uri):
        client = mlflow.MlflowClient(uri)
        return client.search_runs([e.experiment_id for e in client.search_experiments()])


@pytest.fixture
def handlers():
    """interrupts.install() for one test, the process's own handlers back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    interrupts.install()
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_sigterm_raises_keyboard_interrupt(handlers):
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)


def test_an_interrupt_inside_a_deferred_block_is_raised_when_the_block_ends(handlers):
    finished = []
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
        finished.append(True)
    assert finished == [True]
    with interrupts.deferred():  # the pending signal was consumed
        pass


def test_an_error_raised_while_handling_an_interrupt_still_counts_as_one():
    def cleanup() -> None:
        raise OSError("cleanup failed")

    with pytest.raises(OSError) as caught:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            cleanup()
    assert interrupts.caused_by_interrupt(caught.value)
    assert not interrupts.caused_by_interrupt(ValueError("plain"))


def test_a_signal_while_the_run_starts_still_ends_it_killed(handlers, fresh_store, tmp_path, monkeypatch):
    tracking.setup(TrackingConfig(fresh_store, str(tmp_path / "artifacts"), "t"))
    started = mlflow.start_run

    def start_then_signal(**kwargs):
        active = started(**kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # lands where MLflow has made the run but not returned
        time.sleep(0.2)
        return active

    monkeypatch.setattr(mlflow, "start_run", start_then_signal)
    with pytest.raises(KeyboardInterrupt), tracking.run():
        pytest.fail("the body must not run")
    monkeypatch.undo()
    client = mlflow.MlflowClient()
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [r.info.status for r in runs] == ["KILLED"]


@pytest.mark.slow
def test_sigterm_during_training_marks_the_run_killed(tmp_path):
    proc = _start(
        [
            "paratype-train",
            "data=seeds",
            f"tracking.artifact_root={tmp_path}/artifacts",
            "evaluation.cross_validation=article",
        ],
        tmp_path,
    )
    _wait_for(lambda: any(r.info.status == "RUNNING" for r in _runs(tmp_path)), proc)
    proc.send_signal(signal.SIGTERM)
    code, stderr = _ended(proc)
    assert code == 130, stderr
    assert [r.info.status for r in _runs(tmp_path)] == ["KILLED"]


@pytest.mark.slow
def test_sigterm_during_predict_leaves_no_partial_output(trained, tmp_path):
    out = tmp_path / "labels.jsonl"
    proc = _start(
        ["paratype-predict", "--model", trained.result.model_uri, "--output", str(out)],
        trained.tmp,
        stdin=subprocess.PIPE,
    )
    _wait_for(lambda: any(tmp_path.glob(".labels.jsonl.*.part")), proc)
    proc.send_signal(signal.SIGTERM)
    code, stderr = _ended(proc)
    assert code == 130, stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_two_trainings_started_at_once_on_a_new_store_both_succeed(tmp_path):
    procs = [
        _start(
            ["paratype-train", "data=seeds", f"tracking.artifact_root={tmp_path}/artifacts", f"seed={k}"],
            tmp_path,
        )
        for k in range(2)
    ]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0, 0], [p.stderr.read().decode()[-500:] for p in procs]
    assert sorted(r.info.status for r in _runs(tmp_path)) == ["FINISHED", "FINISHED"]
