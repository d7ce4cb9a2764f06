"""Runners: where training happens. The pages and the RunManager don't know which one is used.

Both runners keep one queue of waiting runs and K slots that each train one run at a time:

- ``ThreadRunner`` (default): slots are threads of this process.
- ``ProcessRunner`` (for servers): each slot owns a pre-started worker process with TensorFlow already
  imported, recycled after a number of runs. Every ``model.fit`` in a long-lived process leaks a little
  memory (keras-team/keras#17458) and an oversized model can take the whole process down: a worker
  confines both, and a stuck run can be terminated. Metrics come back through a pipe into the same Run
  object readers poll; stop and pause go to the worker through a second pipe.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import multiprocessing.spawn
import os
import threading
import time
from collections.abc import Callable

from core.runs.record import Run, Status
from core.runs.store import RunStore

log = logging.getLogger(__name__)

CRASH_MESSAGE = (
    "The training process stopped unexpectedly — most likely the model needed more memory than "
    "this server has. Use fewer filters or units, or a smaller batch size, and train again."
)
STOP_GRACE_SECONDS = 30.0  # a worker that ignores Stop this long is terminated


def intra_op_threads(slots: int) -> int:
    """Each training gets its share of the cores."""
    return max(1, (os.cpu_count() or 1) // max(slots, 1))


class RunQueue:
    """Runs waiting for a slot, in order; a waiting run can see its position and be cancelled."""

    def __init__(self):
        self._items: collections.deque[tuple[Run, bool]] = collections.deque()
        self._ready = threading.Condition()

    def put(self, run: Run, continue_training: bool) -> None:
        with self._ready:
            self._items.append((run, continue_training))
            self._ready.notify()

    def take(self) -> tuple[Run, bool]:
        with self._ready:
            while not self._items:
                self._ready.wait()
            return self._items.popleft()

    def position(self, run_id: str) -> int | None:
        """1 for the next run to start; None when the run is not waiting."""
        with self._ready:
            for index, (run, _) in enumerate(self._items):
                if run.id == run_id:
                    return index + 1
        return None

    def remove(self, run_id: str) -> Run | None:
        with self._ready:
            for item in self._items:
                if item[0].id == run_id:
                    self._items.remove(item)
                    return item[0]
        return None


class Runner:
    """Shared queue and slot threads; subclasses say how one slot trains one run."""

    name = "runner"

    def __init__(self, store: RunStore, slots: int, on_done: Callable[[Run], None]):
        self.store = store
        self.slots = max(1, slots)
        self.on_done = on_done
        self.queue = RunQueue()
        self._threads = [
            threading.Thread(target=self._slot_loop, args=(i,), name=f"{self.name}-slot-{i}", daemon=True)
            for i in range(self.slots)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, run: Run, continue_training: bool = False) -> None:
        self.queue.put(run, continue_training)

    def cancel(self, run_id: str) -> bool:
        """End a run that is still waiting; False when it already started (stop it instead)."""
        run = self.queue.remove(run_id)
        if run is None:
            return False
        run.finish(Status.STOPPED, "Cancelled before it started.")
        self.store.save(run)
        run.close()
        self.on_done(run)
        return True

    def _slot_loop(self, slot: int) -> None:
        self._prepare_slot(slot)
        while True:
            run, continue_training = self.queue.take()
            try:
                if run.stop_requested:  # stopped in the moment between leaving the queue and starting
                    run.finish(Status.STOPPED, "Cancelled before it started.")
                    self.store.save(run)
                    run.close()
                else:
                    self._train(slot, run, continue_training)
            except Exception:  # a slot must survive anything one run does
                log.exception("slot %s failed on run %s", slot, run.id)
                if run.active:
                    run.finish(Status.FAILED, "Training failed unexpectedly; please try again.")
                    self.store.save(run)
                    run.close()
            finally:
                self.on_done(run)

    def _prepare_slot(self, slot: int) -> None:
        pass

    def _train(self, slot: int, run: Run, continue_training: bool) -> None:
        raise NotImplementedError


class ThreadRunner(Runner):
    """Train in threads of this process (the default: simplest, and the first chart point comes fastest)."""

    name = "thread"

    _threads_limited = False

    def _train(self, slot: int, run: Run, continue_training: bool) -> None:
        if not ThreadRunner._threads_limited:  # here, not at start-up: rejected runs never import TensorFlow
            _limit_tensorflow_threads(intra_op_threads(self.slots))
            ThreadRunner._threads_limited = True
        from core.training.trainer import execute_run

        execute_run(run, self.store, continue_training=continue_training)


def _limit_tensorflow_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran an op in this process: its thread pools are fixed
        pass


# --- worker processes -------------------------------------------------------------------------------


class ServerGone(BaseException):
    """The server that sent this run has died: stop at once (a BaseException so that execute_run's
    catch-all does not record it as a failure; its final save keeps the run's status as it was). On
    restart the server marks the run interrupted, with the history saved."""


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
                "eval_sizes": self.eval_sizes,
            }
        try:
            self.conn.send((kind, payload, state))
        except (BrokenPipeError, EOFError, OSError):
            raise ServerGone from None

    def begin(self, batches_per_epoch: int, eval_sizes: dict | None = None) -> None:
        super().begin(batches_per_epoch, eval_sizes)
        self._send("state")

    def record_batch(self, *args, **kwargs) -> None:
        super().record_batch(*args, **kwargs)
        self._send("batch", self.batch_history(len(self._batches) - 1)[0])

    def record_epoch(self, metrics: dict) -> None:
        super().record_epoch(metrics)
        self._send("epoch", metrics)

    def _state_changed(self) -> None:
        self._send("state")


def _worker_main(job_conn, control_conn, home: str, threads: int) -> None:
    """A worker process: import TensorFlow once, then train the runs it is sent, one at a time."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _limit_tensorflow_threads(threads)
    from core.training.trainer import execute_run

    store = RunStore(home)
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
        record, batches, epochs, continue_training = job
        run = RelayRun.from_record(record, batches, epochs)
        run.conn = job_conn
        current["run"] = run
        try:
            execute_run(run, store, continue_training=continue_training)
            job_conn.send(("done", run.summary_record(), None))
        except (ServerGone, BrokenPipeError, EOFError, OSError):
            os._exit(0)  # nobody is listening any more; what was saved stays as it is
        current.pop("run", None)


class _Worker:
    def __init__(self, home: str, threads: int):
        context = multiprocessing.get_context("spawn")  # never fork a process that has TensorFlow loaded
        self.job_conn, worker_job = context.Pipe()
        self.control_conn, worker_control = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(worker_job, worker_control, home, threads), name=WORKER_NAME, daemon=True
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
    """Train in pre-started worker processes, one run per worker at a time."""

    name = "process"

    def __init__(self, store: RunStore, slots: int, on_done: Callable[[Run], None], max_runs_per_worker: int = 20):
        self.max_runs_per_worker = max(1, max_runs_per_worker)
        self._threads_per_worker = intra_op_threads(slots)
        self._workers: dict[int, _Worker] = {}
        # Start the workers now, so TensorFlow is imported before the first Train.
        for slot in range(max(1, slots)):
            self._workers[slot] = _Worker(str(store.home), self._threads_per_worker)
        super().__init__(store, slots, on_done)

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers.values()]

    def shutdown(self) -> None:
        for worker in self._workers.values():
            worker.stop()

    def _fresh_worker(self, slot: int) -> _Worker:
        worker = self._workers.get(slot)
        if worker is None or not worker.process.is_alive() or worker.runs >= self.max_runs_per_worker:
            worker = self._replace_worker(slot)
        worker.wait_ready()
        return worker

    def _replace_worker(self, slot: int) -> _Worker:
        old = self._workers.get(slot)
        if old is not None:
            old.stop()
        worker = self._workers[slot] = _Worker(str(self.store.home), self._threads_per_worker)
        return worker

    def _train(self, slot: int, run: Run, continue_training: bool) -> None:
        try:
            self._relay(slot, run, continue_training)
        finally:
            worker = self._workers[slot]
            if worker.runs >= self.max_runs_per_worker or not worker.process.is_alive():
                self._replace_worker(slot)  # now, so the next learner does not wait for TensorFlow to import

    def _relay(self, slot: int, run: Run, continue_training: bool) -> None:
        worker = self._fresh_worker(slot)
        worker.runs += 1
        worker.job_conn.send((run.summary_record(), run.batch_history(), run.epoch_history(), continue_training))
        sent = {"stop": False, "pause": False}
        stop_sent_at = None
        while True:
            # Take every update the worker has sent, then pass on the user's controls.
            ready = worker.job_conn.poll(0.05)
            while ready:
                try:
                    kind, payload, remote = worker.job_conn.recv()
                except (EOFError, OSError):
                    return self._crashed(run, slot)
                if kind == "done":
                    run.apply_final(payload)
                    run.close()
                    return
                run.apply_remote(kind, payload, remote)
                ready = worker.job_conn.poll(0)
            if not worker.process.is_alive():
                return self._crashed(run, slot)
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
                run.finish(
                    Status.STOPPED,
                    "Stopped by you; the training process did not respond, so it was "
                    "ended. The history up to then is kept.",
                )
                self.store.save(run)
                run.close()
                return

    def _crashed(self, run: Run, slot: int) -> None:
        run.finish(Status.FAILED, CRASH_MESSAGE)
        self.store.save(run)
        run.close()
        self._workers[slot].runs = self.max_runs_per_worker  # replace it before the next run
