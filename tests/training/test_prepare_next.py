"""The Train page's hint (RunManager.prepare_next): an idle worker process is told, once, to build and trace the
model the learner is about to train; a busy one is not; after a run the worker prepares that model again.
The worker's trainer here only notes what it is asked (the real preparation: test_prepare_ahead.py)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import wait_for

from core.runs.manager import RunManager
from core.runs.record import Ending, Run, Status
from core.runs.relay import Preparation
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters

SPEC = {
    "input_shape": [28, 28, 1],
    "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}],
}
HP = Hyperparameters(epochs=1, batch_size=32, limit_train=100, limit_test=20)


class NotingTrainer:
    """Trains nothing; writes each thing the worker asked of it to a file, a JSON line each. A run holds its
    slot until the file ``release`` exists (so a test can hint while the worker is busy)."""

    def __init__(self, notes: Path):
        self.notes = notes

    def _note(self, *what) -> None:
        with self.notes.open("a") as file:
            file.write(json.dumps(what) + "\n")

    def prepare(self, threads: int) -> None:
        pass

    def train(self, run: Run, store, *, continue_training: bool = False) -> Ending:
        self._note("train", Preparation.of(run).key)
        wait_for(lambda: (self.notes.parent / "release").exists(), timeout=60)
        return Ending(Status.FINISHED, "", {"test_accuracy": 0.5, "test_loss": 1.0, "test_examples": 2})

    def prepare_for(self, preparation: Preparation) -> None:
        self._note("prepare", preparation.key)


def notes(path: Path) -> list[list]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_an_idle_worker_prepares_the_hinted_model_once_and_a_busy_one_is_not_told(tmp_path):
    log = tmp_path / "notes.jsonl"
    manager = RunManager(RunStore(tmp_path / "home"), runner="process", max_concurrent=1, trainer=NotingTrainer(log))
    key = Preparation(SPEC, "shapes", HP.to_dict()).key
    other = {**HP.to_dict(), "epochs": 2}
    try:
        manager.prepare_next(SPEC, "shapes", HP)
        manager.prepare_next(SPEC, "shapes", HP)  # every rerun of the Train page hints again: told once
        wait_for(lambda: notes(log) == [["prepare", key]])

        run = manager.start(SPEC, "shapes", HP)
        wait_for(lambda: ["train", key] in notes(log))
        manager.prepare_next(SPEC, "shapes", Hyperparameters.from_dict(other))  # busy: not told
        (tmp_path / "release").touch()
        assert run.wait(60) and run.status == Status.FINISHED, run.message
        wait_for(lambda: notes(log)[2:] == [["prepare", key]])  # the model just trained, prepared again
        manager.prepare_next(SPEC, "shapes", HP)  # that one it holds: not told again
        manager.prepare_next(SPEC, "shapes", Hyperparameters.from_dict(other))  # idle now: told
        other_key = Preparation(SPEC, "shapes", other).key
        wait_for(lambda: ["prepare", other_key] in notes(log))
        assert notes(log) == [["prepare", key], ["train", key], ["prepare", key], ["prepare", other_key]]
    finally:
        manager.runner.shutdown()
