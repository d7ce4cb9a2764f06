"""The Ray runner on the web server: a warm actor per slot, placed on the cluster; the queue and the store stay here.

The slot thread follows its actor's run through the relay (core.runs.relay) over an ``_ActorLink``: it
long-polls the actor for the events since the last one it saw, passes Pause, Resume and Stop on to it,
and at the end brings the model's bytes into this server's store. The cluster's health (its head, its
nodes) is core.runs.ray.cluster's; the actor is core.runs.ray.actor's.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.runs.ray.actor import TrainingActor
from core.runs.ray.cluster import connect, node_alive, store_namespace, watch_head, within
from core.runs.record import Ending, Event, Run, Status
from core.runs.relay import CRASH_MESSAGE, Job, News, relay
from core.runs.runners import UNEXPECTED_FAILURE, Runner, RunnerUnavailable, Trainer
from core.runs.store import RunStore

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
ACTOR_CONCURRENCY = 4  # training, polls and controls each get a thread in the actor
WARM_DATASETS = ("fashion_mnist", "shapes")
KEPT_USER_DATASETS = 8  # learners' imported sets kept in the object store between their runs


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
        self.lost = False  # the cluster went away while the app ran (see _lose_cluster)
        self._head_address = ray.get_runtime_context().gcs_address
        self._found = self._find_runs()  # before the slots start actors of their own
        for name in warm_datasets:
            self._try_put(name)
        super().__init__(store, slots, end, trainer)
        # Once the head has not answered for a while, the cluster is lost (``_lose_cluster``).
        threading.Thread(
            target=watch_head,
            args=(self._head_address, self._closed, self._lose_cluster),
            name="ray-head-watch",
            daemon=True,
        ).start()

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
            within(CALL_TIMEOUT_SECONDS, lambda: self._ray.kill(actor.handle, no_restart=True))

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

    def _lose_cluster(self) -> None:
        """The slots take no more runs, the runs under way end (``_ActorLink.poll``), and the manager is told,
        so that the runs still waiting train on this server (``on_unavailable``)."""
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
        return node_alive(self._ray, node_id, CALL_TIMEOUT_SECONDS)

    # --- training ----------------------------------------------------------------------------------

    def _train(self, slot: int, run: Run, continue_training: bool) -> Ending:
        if self.lost:  # taken from the queue in the moment the cluster went away
            return Ending(Status.FAILED, CLUSTER_LOST_MESSAGE)
        actor = self._actors[slot]
        actor.runs += 1
        ending = None
        try:
            job = Job.of(
                run,
                continue_training,
                data={run.dataset: self._dataset_ref(run.dataset)},  # nested: the actor gets it once per node
                model=self.store.model_path(run.id).read_bytes() if continue_training else None,
            )
            self.placements[run.id] = actor.node_id
            actor.train_ref = actor.handle.train.remote(job.to_dict())
            ending = relay(run, _ActorLink(self, actor, run))
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
            ending = relay(run, _ActorLink(self, actor, run, since))
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


class _ActorLink:
    """The relay's way to a run's actor (core.runs.relay.WorkerLink), through Ray, with its faults: the
    actor died, its machine went away or stopped answering, the cluster went away."""

    gap = POLL_GAP_SECONDS

    def __init__(self, runner: RayRunner, actor: _Actor, run: Run, since: int = 0):
        self.runner, self.actor, self.run = runner, actor, run
        self.since = since  # events already applied (a run followed again after a restart has some)
        self.unreachable_since: float | None = None

    def poll(self) -> News | None:
        runner, actor, ray = self.runner, self.actor, self.runner._ray
        if runner.lost:
            # No more calls into Ray: with the head gone, this server's own Ray node may be gone too, and
            # Ray ends a process that touches the object store of a node that went away.
            actor.broken = True
            return News(end=Ending(Status.FAILED, CLUSTER_LOST_MESSAGE))
        try:
            events, finished = ray.get(
                actor.handle.updates.remote(self.since, POLL_WAIT_SECONDS), timeout=CALL_TIMEOUT_SECONDS
            )
            self.unreachable_since = None
        except ray.exceptions.ActorDiedError:
            return News(end=self._lost())
        except Exception:  # unavailable for now, timed out, or Ray itself not answering
            self.unreachable_since = self.unreachable_since or time.time()
            if runner._node_alive(actor.node_id) is False:
                return News(end=self._lost())
            if time.time() - self.unreachable_since > UNREACHABLE_GRACE_SECONDS:
                actor.broken = True
                log.warning("run %s: the training cluster stopped answering", self.run.id)
                return News(end=Ending(Status.FAILED, UNREACHABLE_MESSAGE))
            time.sleep(1.0)
            return None
        self.since += len(events)
        news = News(list(events))
        if finished and not runner.lost:
            news.end = self._collect()
        elif actor.train_ref is not None and ray.wait([actor.train_ref], timeout=0)[0]:
            try:
                ray.get(actor.train_ref)
            except ray.exceptions.RayActorError:
                pass  # the next poll tells whether the machine went away
            except Exception:
                log.exception("run %s failed in its actor", self.run.id)
                news.end = UNEXPECTED_FAILURE
        return news

    def command(self, command: str) -> bool:
        try:
            call = self.actor.handle.control.remote(command)
            return bool(self.runner._ray.get(call, timeout=CALL_TIMEOUT_SECONDS))
        except Exception:  # the next poll finds out what happened to the actor
            return False

    def abandon(self) -> None:
        self.actor.broken = True
        self.runner._retire(self.actor)

    def _collect(self) -> Event | Ending:
        """Bring the trained model and predictions into this server's store; the run's final ``Event.DONE``
        (or how it ended when its actor is gone)."""
        ray, store, run_id = self.runner._ray, self.runner.store, self.run.id
        try:
            done, model, predictions = ray.get(self.actor.handle.collect.remote(), timeout=CALL_TIMEOUT_SECONDS)
        except ray.exceptions.RayActorError:
            return self._lost()
        for data, path in ((model, store.model_path(run_id)), (predictions, store.predictions_path(run_id))):
            if data is not None:
                partial = path.with_suffix(path.suffix + ".partial")
                partial.write_bytes(data)
                partial.replace(path)
        return done

    def _lost(self) -> Ending:
        """The actor is gone: its process crashed (its node is alive), or its machine went away."""
        self.actor.broken = True
        alive = self.runner._node_alive(self.actor.node_id)
        return Ending(Status.FAILED, CRASH_MESSAGE if alive else MACHINE_GONE_MESSAGE)
