"""The process runner (for servers): each slot owns a pre-started worker process.

A worker has TensorFlow imported already and is recycled after a number of runs. Every ``model.fit`` in
a long-lived process leaks a little memory (keras-team/keras#17458) and an oversized model can take the
whole process down: a worker confines both, and a stuck run can be terminated. The relay
(core.runs.relay) does the rest: the worker trains its own copy of the run, whose every change (an Event)
comes back through a pipe into the Run object readers poll; stop and pause go to the worker through a
second pipe. The worker saves nothing: the server's copy of the run is saved by the manager, as with any
runner.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.spawn
import os
import sys
import threading
from collections.abc import Callable

from core.runs.record import Ending, Event, Kind, Run, Status
from core.runs.relay import CRASH_MESSAGE, Job, News, Preparation, WorkerSide, relay
from core.runs.runners import Runner, Trainer, intra_op_threads
from core.runs.store import RunStore


class ServerGone(BaseException):
    """The server that sent this run has died: stop at once (a BaseException so that the trainer's
    catch-all does not turn it into a failure). On restart the server marks the run interrupted, with
    the history it saved."""


WORKER_NAME = "cnn-playground-worker"
READY = "ready"  # what a worker sends once, when TensorFlow is imported and warm
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


def pipe_sender(conn) -> Callable[[Event], None]:
    """What a worker's copy of a run sends its events with: the pipe to its server (ServerGone once that
    is closed)."""

    def send(event: Event) -> None:
        try:
            conn.send(event)
        except (BrokenPipeError, EOFError, OSError):
            raise ServerGone from None

    return send


def _worker_main(job_conn, control_conn, home: str, threads: int, trainer: Trainer) -> None:
    """A worker process: prepare the trainer (import TensorFlow) once, then train the runs it is sent."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    trainer.prepare(threads)
    if hasattr(trainer, "warm_up"):  # before "ready": the first run finds TensorFlow warm
        trainer.warm_up()
    store = RunStore(home, verify=False)  # for the model files only: the server checked it and saves the run
    worker = WorkerSide()

    def obey_controls() -> None:
        while True:
            try:
                command = control_conn.recv()
            except (EOFError, OSError):
                # The server is gone (killed or restarted): end now, even mid-validation or while paused,
                # so a restarted server finds this process dead and marks the run interrupted.
                os._exit(0)
            worker.command(command)

    threading.Thread(target=obey_controls, daemon=True).start()
    job_conn.send(READY)
    send = pipe_sender(job_conn)
    while True:
        try:
            job = job_conn.recv()
        except (EOFError, OSError):
            _leave()
        if job is None:
            _leave()
        preparation = Preparation.from_dict(job)
        if preparation is not None:
            if hasattr(trainer, "prepare_for"):
                trainer.prepare_for(preparation)
            continue
        run, taken = worker.take(job, send)
        try:
            ending = trainer.train(run, store, continue_training=taken.continue_training)
            send(Event.done(run, ending))
        except (ServerGone, BrokenPipeError, EOFError, OSError):
            os._exit(0)  # nobody is listening any more; what the server saved stays as it is
        worker.release()
        if hasattr(trainer, "prepare_for") and run.kind == Kind.TRAINING and ending.status != Status.FAILED:
            trainer.prepare_for(Preparation.of(run))  # while idle: the next run of the same model starts at once


def _leave() -> None:
    """End this worker now, its output flushed: a normal interpreter exit with TensorFlow loaded takes seconds
    (3 s on a busy 2-core machine), which the server's ``stop`` (a recycled worker, a shutdown) would wait for.
    The worker holds nothing to save (the server saves its runs)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(0)


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
        self.busy = False  # a run is training in it
        self.prepared = ""  # the key of the model it was last told to prepare (Preparation.key)

    def wait_ready(self, timeout: float = 180.0) -> bool:
        if not self.ready and self.job_conn.poll(timeout):
            self.ready = self.job_conn.recv() == READY
        return self.ready

    def stop(self) -> None:
        try:
            ready = self.wait_ready(0)
        except (EOFError, OSError):  # it has ended
            ready = False
        if not ready:  # still importing TensorFlow (or ended): it has nothing to finish, and would not hear None
            self.process.terminate()
            self.process.join(5)
            return
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
        with self._workers_lock:
            worker.busy = True
            if run.kind == Kind.TRAINING:  # after it, the worker prepares its model again (_worker_main)
                worker.prepared = Preparation.of(run).key
        try:
            worker.job_conn.send(Job.of(run, continue_training).to_dict())
            return relay(run, _PipeLink(worker, lambda: self._crashed(slot)))
        finally:
            worker.busy = False

    def prepare_next(self, preparation: Preparation) -> None:
        """Every idle worker that was not told to prepare this model is told now (whichever slot takes the
        next run then finds it prepared; one still warming up reads it after). Repeated hints of the same
        model cost nothing."""
        with self._workers_lock:
            idle = [w for w in self._workers.values() if not w.busy and w.prepared != preparation.key]
            for worker in idle:
                worker.prepared = preparation.key
        for worker in idle:
            try:
                worker.job_conn.send(preparation.to_dict())
            except (BrokenPipeError, OSError):
                pass  # a dead worker is replaced before its next run

    def _crashed(self, slot: int) -> Ending:
        self._workers[slot].runs = self.max_runs_per_worker  # replace it before the next run
        return Ending(Status.FAILED, CRASH_MESSAGE)


class _PipeLink:
    """The relay's way to a worker process (core.runs.relay.WorkerLink): its pipes and its process."""

    gap = 0.0  # the pipe costs the worker nothing: every batch is taken as it comes

    def __init__(self, worker: _Worker, crashed: Callable[[], Ending]):
        self.worker = worker
        self.crashed = crashed

    def poll(self) -> News:
        """Every event the worker has sent (waiting up to 50 ms for one), up to its end."""
        conn, news = self.worker.job_conn, News()
        ready = conn.poll(0.05)
        while ready:
            try:
                event = conn.recv()
            except (EOFError, OSError):
                news.end = self.crashed()
                return news
            if event.kind == Event.DONE:
                news.end = event
                return news
            news.events.append(event)
            ready = conn.poll(0)
        if not self.worker.process.is_alive():
            news.end = self.crashed()
        return news

    def command(self, command: str) -> bool:
        try:
            self.worker.control_conn.send(command)
        except (BrokenPipeError, OSError):
            return False  # the next poll finds the process gone
        return True

    def abandon(self) -> None:
        self.worker.process.terminate()
        self.worker.process.join(5)
