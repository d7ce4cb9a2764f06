"""The process runner (for servers): each slot owns a pre-started worker process.

A worker has TensorFlow imported already and is recycled after a number of runs. Every ``model.fit`` in
a long-lived process leaks a little memory (keras-team/keras#17458) and an oversized model can take the
whole process down: a worker confines both, and a stuck run can be terminated. The worker trains its
own copy of the run (``RelayRun``), whose every change comes back through a pipe into the Run object
readers poll; stop and pause go to the worker through a second pipe. The worker saves nothing: the
server's copy of the run is saved by the manager, as with any runner.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import os
import threading
import time
from collections.abc import Callable

from core.runs.record import Ending, Run, Status
from core.runs.runners import Runner, Trainer, intra_op_threads
from core.runs.store import RunStore

CRASH_MESSAGE = (
    "The training process stopped unexpectedly — most likely the model needed more memory than "
    "this server has. Use fewer filters or units, or a smaller batch size, and train again."
)
STUCK_MESSAGE = "Stopped by you; the training process did not respond, so it was ended. The history up to then is kept."
STOP_GRACE_SECONDS = 30.0  # a worker that ignores Stop this long is terminated


class ServerGone(BaseException):
    """The server that sent this run has died: stop at once (a BaseException so that the trainer's
    catch-all does not turn it into a failure). On restart the server marks the run interrupted, with
    the history it saved."""


WORKER_NAME = "cnn-playground-worker"
_preparation_data = multiprocessing.spawn.get_preparation_data


def _preparation_without_main(name):
    """Spawned workers must not re-import the parent's __main__: under `streamlit run` that is the app
    script itself (Streamlit swaps in a module for it), which would start a whole app in each worker."""
    data = _preparation_data(name)
    if name == WORKER_NAME:
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


multiprocessing.spawn.get_preparation_data = _preparation_without_main


class RelayRun(Run):
    """The worker's copy of a run: every change is also sent to the server's copy through a pipe."""

    conn = None

    def _send(self, kind: str, payload=None) -> None:
        with self._lock:
            state = {
                "status": self.status,
                "epoch": self.epoch,
                "batch": self.batch,
                "batches_per_epoch": self.batches_per_epoch,
                "started": self.started,
                "paused_seconds": self.paused_seconds,
                "params": self.params,
                "phase": self.phase,
                "epoch_started": self.epoch_started,
                "pace_started": self.pace_started,
                "paused_since": self.paused_since,
                "eval_sizes": self.eval_sizes,
                "saving_seconds": self.saving_seconds,
            }
        try:
            self.conn.send((kind, payload, state))
        except (BrokenPipeError, EOFError, OSError):
            raise ServerGone from None

    def begin(self, batches_per_epoch: int, eval_sizes: dict | None = None, saving_seconds: float = 0.0) -> None:
        super().begin(batches_per_epoch, eval_sizes, saving_seconds)
        self._send("begin")

    def record_batch(self, *args, **kwargs) -> None:
        super().record_batch(*args, **kwargs)
        self._send("batch", self.batch_history(len(self._batches) - 1)[0])

    def record_epoch(self, metrics: dict) -> None:
        super().record_epoch(metrics)
        self._send("epoch", metrics)

    def _state_changed(self) -> None:
        self._send("state")


def _worker_main(job_conn, control_conn, home: str, threads: int, trainer: Trainer) -> None:
    """A worker process: prepare the trainer (import TensorFlow) once, then train the runs it is sent."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    trainer.prepare(threads)
    if hasattr(trainer, "warm_up"):  # before "ready": the first run finds TensorFlow warm
        trainer.warm_up()
    store = RunStore(home, verify=False)  # for the model files only: the server checked it and saves the run
    current: dict[str, RelayRun] = {}

    def obey_controls() -> None:
        while True:
            try:
                command = control_conn.recv()
            except (EOFError, OSError):
                # The server is gone (killed or restarted): end now, even mid-validation or while paused,
                # so a restarted server finds this process dead and marks the run interrupted.
                os._exit(0)
            run = current.get("run")
            if run is not None:
                {"stop": run.request_stop, "pause": run.request_pause, "resume": run.resume}[command]()

    threading.Thread(target=obey_controls, daemon=True).start()
    job_conn.send(("ready", None, None))
    while True:
        try:
            job = job_conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        record, batches, epochs, analysis, continue_training = job
        run = RelayRun.from_record(record, batches, epochs)
        run.analysis = analysis
        run.conn = job_conn
        current["run"] = run
        try:
            ending = trainer.train(run, store, continue_training=continue_training)
            job_conn.send(("done", run.summary_record(), ending))
        except (ServerGone, BrokenPipeError, EOFError, OSError):
            os._exit(0)  # nobody is listening any more; what the server saved stays as it is
        current.pop("run", None)


class _Worker:
    def __init__(self, home: str, threads: int, trainer: Trainer):
        context = multiprocessing.get_context("spawn")  # never fork a process that has TensorFlow loaded
        self.job_conn, worker_job = context.Pipe()
        self.control_conn, worker_control = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(worker_job, worker_control, home, threads, trainer),
            name=WORKER_NAME,
            daemon=True,
        )
        self.process.start()
        worker_job.close()
        worker_control.close()
        self.runs = 0
        self.ready = False

    def wait_ready(self, timeout: float = 180.0) -> bool:
        if not self.ready and self.job_conn.poll(timeout):
            self.ready = self.job_conn.recv()[0] == "ready"
        return self.ready

    def stop(self) -> None:
        try:
            self.job_conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


class ProcessRunner(Runner):
    """Train in pre-started worker processes, one run per worker at a time.

    Args:
        max_runs_per_worker: a worker is replaced by a fresh process after this many runs.
        workers_at_start: start the workers now, so TensorFlow is imported before the first Train; False:
            once ``start_workers()`` is called (the app does after its first page) or a run needs one.
    """

    name = "process"

    def __init__(
        self,
        store: RunStore,
        slots: int,
        end: Callable[[Run, Ending], None],
        trainer: Trainer,
        max_runs_per_worker: int = 20,
        workers_at_start: bool = True,
    ):
        self.max_runs_per_worker = max(1, max_runs_per_worker)
        self._threads_per_worker = intra_op_threads(slots)
        self._workers: dict[int, _Worker] = {}
        self._workers_lock = threading.Lock()  # a slot's run and start_workers() may both start its worker
        self._trainer = trainer
        super().__init__(store, slots, end, trainer)
        if workers_at_start:
            self.start_workers()

    def start_workers(self) -> None:
        """A worker for every slot that has none (they import TensorFlow meanwhile); no-op once they have."""
        with self._workers_lock:
            for slot in range(self.slots):
                if slot not in self._workers:
                    self._workers[slot] = self._new_worker(self.store)

    def _new_worker(self, store: RunStore) -> _Worker:
        return _Worker(str(store.home), self._threads_per_worker, self._trainer)

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers.values()]

    def shutdown(self) -> None:
        with self._workers_lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.stop()

    def _fresh_worker(self, slot: int) -> _Worker:
        with self._workers_lock:
            worker = self._workers.get(slot)
            if worker is None or not worker.process.is_alive() or worker.runs >= self.max_runs_per_worker:
                worker = self._replace_worker(slot)
        worker.wait_ready()
        return worker

    def _replace_worker(self, slot: int) -> _Worker:
        old = self._workers.get(slot)
        if old is not None:
            old.stop()
        worker = self._workers[slot] = self._new_worker(self.store)
        return worker

    def _train(self, slot: int, run: Run, continue_training: bool) -> Ending:
        try:
            return self._relay(slot, run, continue_training)
        finally:
            with self._workers_lock:
                worker = self._workers[slot]
                if worker.runs >= self.max_runs_per_worker or not worker.process.is_alive():
                    self._replace_worker(slot)  # now, so the next learner does not wait for TensorFlow to import

    def _relay(self, slot: int, run: Run, continue_training: bool) -> Ending:
        worker = self._fresh_worker(slot)
        worker.runs += 1
        worker.job_conn.send(
            (run.summary_record(), run.batch_history(), run.epoch_history(), run.analysis, continue_training)
        )
        sent = {"stop": False, "pause": False}
        stop_sent_at = None
        while True:
            # Take every update the worker has sent, then pass on the user's controls.
            ready = worker.job_conn.poll(0.05)
            while ready:
                try:
                    kind, payload, remote = worker.job_conn.recv()
                except (EOFError, OSError):
                    return self._crashed(slot)
                if kind == "done":
                    run.apply_final(payload)
                    return remote  # the worker's Ending
                run.apply_remote(kind, payload, remote)
                ready = worker.job_conn.poll(0)
            if not worker.process.is_alive():
                return self._crashed(slot)
            if run.stop_requested and not sent["stop"]:
                worker.control_conn.send("stop")
                sent["stop"] = True
                stop_sent_at = time.time()
            elif run.pause_requested != sent["pause"] and not sent["stop"]:
                worker.control_conn.send("pause" if run.pause_requested else "resume")
                sent["pause"] = run.pause_requested
            if stop_sent_at is not None and time.time() - stop_sent_at > STOP_GRACE_SECONDS:
                worker.process.terminate()  # a stuck run: end its process, keep what it recorded
                worker.process.join(5)
                return Ending(Status.STOPPED, STUCK_MESSAGE)

    def _crashed(self, slot: int) -> Ending:
        self._workers[slot].runs = self.max_runs_per_worker  # replace it before the next run
        return Ending(Status.FAILED, CRASH_MESSAGE)
