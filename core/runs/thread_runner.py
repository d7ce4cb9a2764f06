"""The thread runner (the default): each slot is a thread of this process that calls the trainer.

Simplest, and the first chart point comes fastest; a run shares the process with the app.
"""

from __future__ import annotations

import threading

from core.runs.record import Ending, Run
from core.runs.runners import Runner, intra_op_threads


class ThreadRunner(Runner):
    name = "thread"

    # Kinds of trainer prepared in this process (TensorFlow's thread pools are set once per process).
    _prepared: set[type] = set()
    _prepare_lock = threading.Lock()

    def _train(self, slot: int, run: Run, continue_training: bool) -> Ending:
        with ThreadRunner._prepare_lock:
            if type(self.trainer) not in ThreadRunner._prepared:  # on the first run: a rejected one never loads TF
                self.trainer.prepare(intra_op_threads(self.slots))
                ThreadRunner._prepared.add(type(self.trainer))
        return self.trainer.train(run, self.store, continue_training=continue_training)
