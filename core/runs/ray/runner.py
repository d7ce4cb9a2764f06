"""The Ray runner: each run trains in a Ray actor somewhere on a cluster; the queue and the store stay here.

- The app's queue (positions, per-user caps, challenge rules) is unchanged: each slot of the base
  ``Runner`` owns one warm actor (TensorFlow imported, data sets pulled from the object store) and takes the
  next run only once Ray has placed that actor. A slot the cluster has no free CPUs for waits, so the
  number of runs at once follows the cluster's free CPUs, capped by the number of slots.
- The actor trains with the same trainer (``RunRecorder`` callback) as the other runners, on a
  ``RelayRun`` whose pipe is an in-actor event log. The slot thread here long-polls the actor for the
  events since the last one it saw and applies them, in order, to the Run object the pages read, and
  passes Pause, Resume and Stop on to the actor between polls; the trainer checks them after every batch.
- Nothing the server needs stays on a worker's disk: the model is saved to a scratch folder that is
  read back as bytes and deleted, and the bytes come back through Ray to this server's store. Data sets
  travel through the object store: put once here, pulled once per node, shared by the actors there.
- Actors are named and detached in a namespace of this store: after a web-server restart, the new server
  finds the runs they are still training (or finished meanwhile) and follows them again.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.runs.process_runner import CRASH_MESSAGE, STOP_GRACE_SECONDS, STUCK_MESSAGE, RelayRun
from core.runs.record import Ending, Run, Status
from core.runs.runners import UNEXPECTED_FAILURE, KerasTrainer, Runner, RunnerUnavailable, Trainer
from core.runs.store import RunStore
from core.text import ascii_whole_number

log = logging.getLogger(__name__)

MACHINE_GONE_MESSAGE = "The machine training this run went away — train again. Its history up to then is kept."
UNREACHABLE_MESSAGE = (
    "The training cluster stopped answering while this run trained — train again. Its history up to then is kept."
)
CLUSTER_LOST_MESSAGE = (
    "The training cluster went away while this run trained — train again: it will train on this server. "
    "Its history up to then is kept."
)
CLUSTER_LOST_REASON = "The training cluster went away: its head node at {address} stopped answering."
POLL_WAIT_SECONDS = 0.2  # an actor answers a poll at once when it has news, else after this long
# After news, let the next batches gather this long before asking again (sooner when the user presses a
# control): each answer costs the training actor time, about a fifth of an epoch's when asked after every
# batch (bench/ray_runner.py), and the page reads the run only once a second.
POLL_GAP_SECONDS = 0.5
CALL_TIMEOUT_SECONDS = 30.0  # an actor call that takes longer means its machine is unreachable
UNREACHABLE_GRACE_SECONDS = 60.0  # how long an unreachable actor may stay so before its run fails
HEAD_CHECK_SECONDS = 2.0  # how often the app checks that the cluster's head still answers
HEAD_LOST_SECONDS = 10.0  # the head unreachable this long: the cluster is gone for this app
# Ray ends a process whose cluster head has not answered for this long (its own default: 60 s, which would end
# the web server with the class in it); the app watches the head itself and falls back instead.
KEEP_WAITING_FOR_HEAD_SECONDS = 365 * 24 * 3600
ACTOR_CONCURRENCY = 4  # training, polls and controls each get a thread in the actor
WARM_DATASETS = ("fashion_mnist", "shapes")
KEPT_USER_DATASETS = 8  # learners' imported sets kept in the object store between their runs


# --- connecting --------------------------------------------------------------------------------------


def store_namespace(store: RunStore) -> str:
    """The Ray namespace of one app (one store): its actors' names never meet another app's."""
    digest = hashlib.sha256(str(Path(store.home).resolve()).encode()).hexdigest()[:12]
    return f"cnn-playground-{digest}"


def _gcs_reachable(address: str, timeout: float = 5.0) -> bool:
    """A quick TCP check of a ``host:port`` head address: an unreachable head makes ``ray.init`` wait
    for minutes (and may end the process), so the app checks first."""
    host, _, text = address.rpartition(":")
    port = ascii_whole_number(text)  # not isdigit(): "⁶³⁷⁹" passes it, then int() fails
    if not host or port is None:
        return True  # "auto", "ray://..." and the like: leave it to Ray
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except (OSError, OverflowError):  # OverflowError: a port above 65535
        return False


# Ray's switch for multi-machine clusters: "0" keeps every service of a local Ray on 127.0.0.1.
LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def connect(namespace: str, local_cpus: int | None = None) -> bool:
    """Join the cluster at $RAY_ADDRESS, or start a local Ray with ``local_cpus`` CPUs.

    Returns True when this call started Ray (then the runner shuts it down), False when Ray was
    already connected. Raises RunnerUnavailable with a plain message when the cluster cannot be reached.
    """
    address = os.environ.get("RAY_ADDRESS", "").strip()
    if not address:
        # A local Ray serves this machine only: keep its services on loopback instead of the address Ray
        # would pick for other machines to reach (read when Ray is first imported).
        os.environ.setdefault(LOOPBACK_ONLY_ENV, "0")
    import ray

    if ray.is_initialized():
        return False
    options = {
        "namespace": namespace,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        # This server's `core` goes to every node with the job: nodes need only the Python packages.
        "runtime_env": {"py_modules": [str(Path(__file__).resolve().parents[1])], "excludes": ["__pycache__"]},
    }
    if address:
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", str(KEEP_WAITING_FOR_HEAD_SECONDS))
        if not _gcs_reachable(address):
            raise RunnerUnavailable(
                f"The training cluster at {address} (RAY_ADDRESS) cannot be reached: is its head node running, "
                "and is this server allowed to connect to it?"
            )
        try:
            ray.init(address=address, **options)
        except Exception as error:  # authentication, version mismatch, ...: say what Ray said, in one line
            detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
            raise RunnerUnavailable(f"Could not join the training cluster at {address}: {detail}") from error
    else:
        ray.init(num_cpus=local_cpus or os.cpu_count() or 1, include_dashboard=False, **options)
    return True


def _within(seconds: float, call: Callable, default=None):
    """``call()``, or ``default`` when it raised or has not returned within ``seconds``: Ray's calls that need
    the cluster's head wait for it for as long as it is away (see KEEP_WAITING_FOR_HEAD_SECONDS)."""
    answer = []

    def attempt():
        with contextlib.suppress(Exception):
            answer.append(call())

    helper = threading.Thread(target=attempt, name="ray-call", daemon=True)
    helper.start()
    helper.join(seconds)
    return answer[0] if answer else default


# --- on a worker node -------------------------------------------------------------------------------


class _EventLog:
    """What a RelayRun sends, kept in order in the actor until the server has polled it."""

    def __init__(self):
        self._events: list = []
        self._changed = threading.Condition()
        self.finished = False

    def send(self, event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def finish(self) -> None:
        with self._changed:
            self.finished = True
            self._changed.notify_all()

    def since(self, index: int, wait: float) -> tuple[list, bool]:
        """The events after the first ``index``, waiting up to ``wait`` seconds for one to come."""
        with self._changed:
            if len(self._events) <= index and not self.finished:
                self._changed.wait(wait)
            return self._events[index:], self.finished

    def __len__(self) -> int:
        with self._changed:
            return len(self._events)


def _read_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def _warm_tensorflow() -> None:
    """Import TensorFlow and run one tiny convolutional fit, so a learner's first batch does not pay for
    loading the kernels (each run sets its own seeds)."""
    import keras
    import numpy as np

    import core.runs.trainer  # noqa: F401  (what execute_run needs, imported before the first Train)

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.zeros((4, 8, 8, 1), "float32"), np.zeros(4, "int64"), batch_size=2, verbose=0)
    keras.backend.clear_session()


class TrainingActor:
    """One warm trainer on a cluster node: TensorFlow imported, data sets cached; trains one run at a time.

    Wrapped with ``ray.remote`` by the runner (so this module imports without Ray).
    """

    def __init__(self, threads: int, datasets: dict, trainer: Trainer):
        """Args:
        threads: TensorFlow's threads (the CPUs this actor asked for).
        datasets: name -> object ref of the data sets to have ready before the first run.
        trainer: what trains a run (core.runs.runners.Trainer), the same as the other runners use.
        """
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self._trainer = trainer
        trainer.prepare(threads)
        if isinstance(trainer, KerasTrainer):
            _warm_tensorflow()
        self._lock = threading.Lock()
        self._datasets: dict[str, str] = {}  # name -> object id of the copy installed here
        self._run: RelayRun | None = None
        self._events: _EventLog | None = None
        self._outcome: tuple | None = None
        self.warm(datasets)  # in the constructor: the actor answers `ready` only once it is warm

    def ready(self) -> str:
        """The id of the node this actor lives on (answered once the actor has started)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def warm(self, datasets: dict) -> None:
        """Pull data sets from the object store (once per node; actors on a node share the copy)."""
        import ray

        from core.data.datasets import provide_dataset

        for name, ref in datasets.items():
            with self._lock:
                if self._datasets.get(name) == ref.hex():
                    continue
            dataset = ray.get(ref)
            provide_dataset(dataset)
            for part in ("x_train", "x_test"):
                dataset.as_float(part)  # the trainer's float copy, made now rather than at Train
            with self._lock:
                self._datasets[name] = ref.hex()

    def train(self, job: dict) -> None:
        """Train one run to its end; its events and outcome wait here until the server collects them.

        ``job``: the run's record, batch and epoch history and analysis, ``continue_training``, its data
        set's object ref (``data``: name -> ref) and, to train on, its saved model's bytes (``model``).
        """
        self.warm(job["data"])
        run = RelayRun.from_record(job["record"], job["batches"], job["epochs"])
        run.analysis = job["analysis"]
        run.conn = events = _EventLog()
        with self._lock:
            self._run, self._events, self._outcome = run, events, None
        # A scratch store, deleted below: the model and predictions go back to the server as bytes.
        scratch = tempfile.mkdtemp(prefix="cnn-playground-")
        try:
            store = RunStore(scratch)
            if job["model"] is not None:
                store.model_path(run.id).write_bytes(job["model"])
            ending = self._trainer.train(run, store, continue_training=job["continue_training"])
            outcome = (
                run.summary_record(),
                ending,
                _read_bytes(store.model_path(run.id)),
                _read_bytes(store.predictions_path(run.id)),
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with self._lock:
            self._outcome = outcome
        events.finish()

    def updates(self, since: int, wait: float) -> tuple[list, bool]:
        """The run's events after the first ``since``, and whether its outcome is ready to collect."""
        with self._lock:
            events = self._events
        if events is None:
            time.sleep(min(wait, 0.05))
            return [], False
        return events.since(since, wait)

    def control(self, command: str) -> bool:
        """Pass the user's Stop, Pause or Resume to the run; False when no run is training yet."""
        with self._lock:
            run = self._run
        if run is None:
            return False
        {"stop": run.request_stop, "pause": run.request_pause, "resume": run.resume}[command]()
        return True

    def holding(self) -> str | None:
        """The id of the run this actor trains or holds the outcome of, if any."""
        with self._lock:
            return self._run.id if self._run is not None else None

    def snapshot(self) -> tuple[dict, list, list, int]:
        """The run as it is now, and how many events it has sent (for a restarted server to follow it)."""
        with self._lock:
            run, events = self._run, self._events
        return run.summary_record(), run.batch_history(), run.epoch_history(), len(events)

    def collect(self) -> tuple:
        """The final record, the Ending, the model's and predictions' bytes; the actor is then free."""
        with self._lock:
            outcome = self._outcome
            self._run = self._events = self._outcome = None
        return outcome


# --- on the web server --------------------------------------------------------------------------------


@dataclass
class _Actor:
    handle: object
    ready_ref: object
    node_id: str | None = None
    runs: int = 0
    broken: bool = False  # died, or ended because it did not respond: never reused
    train_ref: object = field(default=None, repr=False)


class RayRunner(Runner):
    """Train each run in a warm Ray actor on the cluster (see the module's docstring)."""

    name = "ray"

    def __init__(
        self,
        store: RunStore,
        slots: int,
        end: Callable[[Run, Ending], None],
        trainer: Trainer,
        *,
        cpus_per_run: int = 2,
        use_gpu: bool = False,
        local_cpus: int | None = None,
        slots_from_cluster: bool = False,
        max_runs_per_worker: int = 20,
        warm_datasets: Iterable[str] = WARM_DATASETS,
    ):
        """Args:
        slots: the most runs at once (the cap); with ``slots_from_cluster`` it is instead as many as the
            cluster's CPUs hold at start-up.
        cpus_per_run: CPUs each run's actor asks Ray for (and TensorFlow's threads in it).
        use_gpu: each run asks for one GPU when the cluster has any.
        local_cpus: CPUs of the local Ray started when $RAY_ADDRESS is unset (default: all).
        max_runs_per_worker: an actor is replaced after this many runs (model.fit leaks a little memory).
        warm_datasets: built-in data sets put in the object store at start-up and pulled by every actor.
        """
        try:
            import ray
        except ImportError as error:
            raise RunnerUnavailable("The ray runner needs the ray package on this server (pip install ray).") from error
        self._ray = ray
        self.namespace = store_namespace(store)
        self._started_ray = connect(self.namespace, local_cpus)
        resources = ray.cluster_resources()
        self.cpus_per_run = max(1, int(cpus_per_run))
        self.gpus_per_run = 1 if use_gpu and resources.get("GPU", 0) >= 1 else 0
        if use_gpu and not self.gpus_per_run:
            log.warning("GPU training is allowed but the cluster has no GPU: runs train on CPUs.")
        if slots_from_cluster:
            slots = max(1, int(resources.get("CPU", 1)) // self.cpus_per_run)
        self.max_runs_per_worker = max(1, max_runs_per_worker)
        self._actor_class = ray.remote(TrainingActor)
        self._runtime_env = {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._actors: dict[int, _Actor] = {}
        self._adopted: dict[str, _Actor] = {}
        # name -> (id of the data set object, its ref), the most recently used last
        self._data_refs: collections.OrderedDict[str, tuple[int, object]] = collections.OrderedDict()
        self.placements: dict[str, str] = {}  # run id -> id of the node that trains it
        self.lost = False  # the cluster went away while the app ran (see _watch_head)
        self._head_address = ray.get_runtime_context().gcs_address
        self._found = self._find_runs()  # before the slots start actors of their own
        for name in warm_datasets:
            self._try_put(name)
        super().__init__(store, slots, end, trainer)
        threading.Thread(target=self._watch_head, name="ray-head-watch", daemon=True).start()

    # --- data sets ---------------------------------------------------------------------------------

    def _dataset_ref(self, name: str):
        """The data set in the object store, put there once (again only if it was loaded anew).

        Learners' imported sets beyond the ``KEPT_USER_DATASETS`` used last are let go (Ray frees an
        object once no run holds it); built-in ones stay.
        """
        from core.data.datasets import DATASETS, load_dataset

        dataset = load_dataset(name)
        with self._lock:
            known = self._data_refs.get(name)
            if known is not None and known[0] == id(dataset):
                self._data_refs.move_to_end(name)
                return known[1]
        ref = self._ray.put(dataset)
        with self._lock:
            self._data_refs[name] = (id(dataset), ref)
            own = [key for key in self._data_refs if key not in DATASETS]
            for key in own[: max(0, len(own) - KEPT_USER_DATASETS)]:
                del self._data_refs[key]
        return ref

    def _try_put(self, name: str) -> None:
        from core.data.datasets import DatasetUnavailable

        try:
            self._dataset_ref(name)
        except DatasetUnavailable:
            log.info("data set %s is not available on this server: not warmed on the cluster", name)

    def _warm_refs(self) -> dict:
        """The built-in data sets in the object store, for a new actor to pull before its first run."""
        from core.data.datasets import DATASETS

        with self._lock:
            return {name: ref for name, (_, ref) in self._data_refs.items() if name in DATASETS}

    # --- actors ------------------------------------------------------------------------------------

    def _spawn(self) -> _Actor:
        handle = self._actor_class.options(
            name=f"trainer-{uuid.uuid4().hex[:12]}",
            namespace=self.namespace,
            lifetime="detached",  # outlives a web-server restart: the new server finds its run again
            max_concurrency=ACTOR_CONCURRENCY,
            num_cpus=self.cpus_per_run,
            num_gpus=self.gpus_per_run,
            scheduling_strategy="SPREAD",
            runtime_env=self._runtime_env,
        ).remote(self.cpus_per_run, self._warm_refs(), self.trainer)
        return _Actor(handle, handle.ready.remote())

    def _retire(self, actor: _Actor) -> None:
        if not self.lost:  # else it went with its cluster
            _within(CALL_TIMEOUT_SECONDS, lambda: self._ray.kill(actor.handle, no_restart=True))

    def _prepare_slot(self, slot: int) -> None:
        """Before each run: this slot's warm actor, placed on a node with free CPUs (waits until one is)."""
        while True:
            if self._closed.is_set():
                threading.Event().wait()  # a shut-down runner's slots take no more runs
            try:
                actor = self._actors.get(slot)
                if actor is None:
                    actor = self._actors[slot] = self._spawn()
                if actor.node_id is not None:
                    return
                ready, _ = self._ray.wait([actor.ready_ref], timeout=1.0)
                if ready:
                    actor.node_id = self._ray.get(actor.ready_ref)
            except Exception:  # the actor died starting (its node went away), or Ray is not answering
                log.exception("a training actor could not start; starting another")
                self._actors.pop(slot, None)
                time.sleep(5.0)

    # --- the cluster going away ---------------------------------------------------------------------

    def _watch_head(self) -> None:
        """Check the head every few seconds; once it has not answered for HEAD_LOST_SECONDS, the cluster is
        lost: the slots take no more runs, the runs under way end (``_relay``), and the manager is told, so
        that the runs still waiting train on this server (``on_unavailable``)."""
        down_since = None
        while not self._closed.wait(HEAD_CHECK_SECONDS):
            if _gcs_reachable(self._head_address, timeout=HEAD_CHECK_SECONDS):
                down_since = None
                continue
            down_since = down_since or time.monotonic()
            if time.monotonic() - down_since >= HEAD_LOST_SECONDS:
                self._lose_cluster()
                return

    def _lose_cluster(self) -> None:
        reason = CLUSTER_LOST_REASON.format(address=self._head_address)
        log.warning(reason)
        self.lost = True
        self._closed.set()
        if self.on_unavailable is not None:
            self.on_unavailable(reason)

    def worker_nodes(self) -> dict[int, str | None]:
        """Slot -> node id of its actor (None while Ray has not placed it)."""
        return {slot: actor.node_id for slot, actor in self._actors.items()}

    def _node_alive(self, node_id: str | None) -> bool | None:
        """Whether the node is alive; None when Ray cannot tell (its head is not answering)."""
        if self.lost:
            return None
        nodes = _within(CALL_TIMEOUT_SECONDS, self._ray.nodes)
        return None if nodes is None else any(n["NodeID"] == node_id and n["Alive"] for n in nodes)

    # --- training ----------------------------------------------------------------------------------

    def _train(self, slot: int, run: Run, continue_training: bool) -> Ending:
        if self.lost:  # taken from the queue in the moment the cluster went away
            return Ending(Status.FAILED, CLUSTER_LOST_MESSAGE)
        actor = self._actors[slot]
        actor.runs += 1
        ending = None
        try:
            job = {
                "record": run.summary_record(),
                "batches": run.batch_history(),
                "epochs": run.epoch_history(),
                "analysis": run.analysis,
                "continue_training": continue_training,
                "data": {run.dataset: self._dataset_ref(run.dataset)},  # nested: the actor gets it once per node
                "model": self.store.model_path(run.id).read_bytes() if continue_training else None,
            }
            self.placements[run.id] = actor.node_id
            actor.train_ref = actor.handle.train.remote(job)
            ending = self._relay(actor, run)
            return ending
        finally:
            if actor.broken or actor.runs >= self.max_runs_per_worker or ending is None:
                self._retire(actor)
                if self._actors.get(slot) is actor:
                    del self._actors[slot]
                    if not self.lost:  # no new actor on a cluster that went away
                        # a fresh one now, so the next learner does not wait for TensorFlow to import
                        with contextlib.suppress(Exception):  # else the slot starts one before its next run
                            self._actors[slot] = self._spawn()

    def _relay(self, actor: _Actor, run: Run, since: int = 0) -> Ending:
        """Follow the actor's run until it ends: apply its events here in order, pass controls to it."""
        ray = self._ray
        sent_stop = run.status == Status.STOPPING
        sent_pause = run.status == Status.PAUSED
        stop_sent_at = None
        unreachable_since = None
        while True:
            if self.lost:
                # No more calls into Ray: with the head gone, this server's own Ray node may be gone too, and
                # Ray ends a process that touches the object store of a node that went away.
                actor.broken = True
                return Ending(Status.FAILED, CLUSTER_LOST_MESSAGE)
            try:
                events, finished = ray.get(
                    actor.handle.updates.remote(since, POLL_WAIT_SECONDS), timeout=CALL_TIMEOUT_SECONDS
                )
                unreachable_since = None
            except ray.exceptions.ActorDiedError:
                return self._lost(run, actor)
            except Exception:  # unavailable for now, timed out, or Ray itself not answering
                unreachable_since = unreachable_since or time.time()
                if self._node_alive(actor.node_id) is False:
                    return self._lost(run, actor)
                if time.time() - unreachable_since > UNREACHABLE_GRACE_SECONDS:
                    actor.broken = True
                    log.warning("run %s: the training cluster stopped answering", run.id)
                    return Ending(Status.FAILED, UNREACHABLE_MESSAGE)
                time.sleep(1.0)
                continue
            for kind, payload, state in events:
                run.apply_remote(kind, payload, state)  # the manager saves the run as it begins and per epoch
            since += len(events)
            if events and not finished:
                self._gather(run, sent_stop, sent_pause)
            if finished and not self.lost:
                return self._collect(actor, run)
            if actor.train_ref is not None and ray.wait([actor.train_ref], timeout=0)[0]:
                try:
                    ray.get(actor.train_ref)
                except ray.exceptions.RayActorError:
                    continue  # the next poll tells whether the machine went away
                except Exception:
                    log.exception("run %s failed in its actor", run.id)
                    return UNEXPECTED_FAILURE
            if run.stop_requested and not sent_stop:
                sent_stop = self._control(actor, "stop")
                stop_sent_at = time.time() if sent_stop else None
            elif run.pause_requested != sent_pause and not sent_stop:
                if self._control(actor, "pause" if run.pause_requested else "resume"):
                    sent_pause = run.pause_requested
            if stop_sent_at is not None and time.time() - stop_sent_at > STOP_GRACE_SECONDS:
                actor.broken = True
                self._retire(actor)  # a stuck run: end its actor, keep what it recorded
                return Ending(Status.STOPPED, STUCK_MESSAGE)

    @staticmethod
    def _gather(run: Run, sent_stop: bool, sent_pause: bool) -> None:
        """Wait POLL_GAP_SECONDS, or less when the user pressed Stop, Pause or Resume meanwhile."""
        deadline = time.monotonic() + POLL_GAP_SECONDS
        while time.monotonic() < deadline:
            if (run.stop_requested and not sent_stop) or run.pause_requested != sent_pause:
                return
            time.sleep(0.02)

    def _control(self, actor: _Actor, command: str) -> bool:
        try:
            return bool(self._ray.get(actor.handle.control.remote(command), timeout=CALL_TIMEOUT_SECONDS))
        except Exception:  # the next poll finds out what happened to the actor
            return False

    def _collect(self, actor: _Actor, run: Run) -> Ending:
        """Bring the trained model and predictions into this server's store; say how the run ended."""
        try:
            record, ending, model, predictions = self._ray.get(
                actor.handle.collect.remote(), timeout=CALL_TIMEOUT_SECONDS
            )
        except self._ray.exceptions.RayActorError:
            return self._lost(run, actor)
        for data, path in ((model, self.store.model_path(run.id)), (predictions, self.store.predictions_path(run.id))):
            if data is not None:
                partial = path.with_suffix(path.suffix + ".partial")
                partial.write_bytes(data)
                partial.replace(path)
        run.apply_final(record)
        return ending

    def _lost(self, run: Run, actor: _Actor) -> Ending:
        actor.broken = True
        alive = self._node_alive(actor.node_id)
        return Ending(Status.FAILED, CRASH_MESSAGE if alive else MACHINE_GONE_MESSAGE)

    # --- after a web-server restart ----------------------------------------------------------------

    def _find_runs(self) -> list[tuple[_Actor, Run, int]]:
        """The runs this app's actors still train (or finished meanwhile), to follow them again.

        Idle actors left by the previous server are ended; the slots start their own.
        """
        ray = self._ray
        found = []
        names = [
            entry["name"]
            for entry in ray.util.list_named_actors(all_namespaces=True)
            if entry["namespace"] == self.namespace
        ]
        for name in names:
            try:
                handle = ray.get_actor(name, namespace=self.namespace)
                actor = _Actor(handle, None, node_id=ray.get(handle.ready.remote(), timeout=CALL_TIMEOUT_SECONDS))
                run_id = ray.get(handle.holding.remote(), timeout=CALL_TIMEOUT_SECONDS)
                if run_id is None:
                    self._retire(actor)
                    continue
                record, batches, epochs, since = ray.get(handle.snapshot.remote(), timeout=CALL_TIMEOUT_SECONDS)
            except Exception:  # dead, or on a machine that went away: the store marks its run interrupted
                log.info("training actor %s could not be reached after the restart", name)
                continue
            run = Run.from_record(record, batches, epochs)
            self._adopted[run.id] = actor
            self.placements[run.id] = actor.node_id
            found.append((actor, run, since))
        if found:
            log.info("found %d run(s) still training on the cluster", len(found))
        return found

    def recover(self, admit: Callable[[Run], None]) -> None:
        """Follow the runs found still training (see ``_find_runs``) to their end, each in its own thread."""
        found, self._found = self._found, []
        for actor, run, since in found:
            admit(run)
            threading.Thread(
                target=self._follow_adopted, args=(actor, run, since), name=f"ray-adopted-{run.id}", daemon=True
            ).start()

    def _follow_adopted(self, actor: _Actor, run: Run, since: int) -> None:
        ending = UNEXPECTED_FAILURE
        try:
            ending = self._relay(actor, run, since)
        except Exception:
            log.exception("following run %s after the restart failed", run.id)
        finally:
            self._retire(actor)
            self._adopted.pop(run.id, None)
            self.end(run, ending)

    # --- shutting down -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """End this runner's actors (runs they train end with them), and Ray if this runner started it."""
        self._closed.set()
        for actor in [*self._actors.values(), *self._adopted.values()]:
            self._retire(actor)
        if self._started_ray:
            self._ray.shutdown()
