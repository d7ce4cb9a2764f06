"""Starting, finding, stopping and deleting runs: the API the dashboard and the CLI drive.

The manager owns a run's lifecycle: it checks a run (analysing its spec once), saves it when it starts,
as it progresses (a hook on the run) and when it ends (``_end``: finish, save, close, forget), and checks
who may see or control it. Runs train in the background through a runner (core.runs.runners: threads
of this process, worker processes, ...), at most ``max_concurrent`` at once; the rest wait in a queue,
in order. The runner calls a trainer (the Keras one unless the manager is handed another). Live runs
are served from memory; ended ones from the store.
"""

from __future__ import annotations

import logging
import threading

from core.config import (
    DEFAULT_MAX_WAITING_PER_USER,
    DEFAULT_PARAM_BUDGET,
    Settings,
    default_concurrency,
    default_memory_budget_mb,
)
from core.disk import without_paths
from core.model.spec import Analysis
from core.runs.challenges import ChallengeStore
from core.runs.policy import RunPolicy
from core.runs.record import Ending, Kind, Run, Status
from core.runs.relay import Preparation
from core.runs.runners import KerasTrainer, RunnerUnavailable, Trainer, runner_class
from core.runs.store import RunStore, StoreError
from core.text import LEARNER_NAME_CHARS, RUN_NAME_CHARS, clean_name
from core.training.hyperparams import Hyperparameters

log = logging.getLogger(__name__)


READ_ONLY_NOTICE = (
    "The server's run store is read-only at the moment: you can look at the runs saved before, but no run "
    "can be trained, saved or deleted until the server's operator makes it writable again."
)
FALLBACK_NOTICE = (
    "{reason} Training runs on this server instead, one or two at a time, until the app is restarted "
    "with the cluster back."
)
JOB_NAMES = {Kind.LR_FIND: "Learning-rate finder", Kind.SPEED_PROBE: "Speed measurement"}


class RunRejected(Exception):
    """The run cannot start; ``problems`` are plain-language sentences for the user."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


class RunManager:
    """Args:
    store: where runs are saved.
    max_concurrent: trainings at once (default: one per two cores).
    param_budget: the most parameters a model may have.
    runner: a name in core.runs.runners.RUNNERS ("thread", "process", ...).
    trainer: what trains one run (core.runs.runners.Trainer); the Keras trainer by default.
    memory_budget_mb: the most training memory a run may need, as analyze() estimates it (default: half
        the machine's memory shared by the slots).
    max_waiting_per_user: runs one owner may have waiting in the queue.
    runner_options: passed on to the runner (e.g. the process runner's max_runs_per_worker).
    """

    def __init__(
        self,
        store: RunStore,
        max_concurrent: int | None = None,
        param_budget: int = DEFAULT_PARAM_BUDGET,
        runner: str = "thread",
        trainer: Trainer | None = None,
        memory_budget_mb: int | None = None,
        max_waiting_per_user: int = DEFAULT_MAX_WAITING_PER_USER,
        **runner_options,
    ):
        runner_type = runner_class(runner)
        self.store = store
        slots = max_concurrent or default_concurrency()
        # Every limit of a run (core.runs.policy): the pages and the experiment planner ask the same one.
        self.policy = RunPolicy(param_budget, memory_budget_mb or default_memory_budget_mb(slots), store)
        self.max_waiting_per_user = max_waiting_per_user
        self._live: dict[str, Run] = {}
        self._admitting: dict[str, Run] = {}  # checked and being saved: counted as waiting, not yet shown
        # Ended runs whose end the store could not take (a full disk): shown from here, as failed, over the
        # stale record in the store, until they are saved or deleted.
        self._unsaved: dict[str, Run] = {}
        self._save_problems: dict[str, str] = {}  # run id -> why its progress could not be saved
        self._listeners: list = []  # called when a run is queued, begins, or ends (see add_listener)
        self._lock = threading.Lock()
        # A plain message for every page when training is not as configured
        self.notice = READ_ONLY_NOTICE if store.read_only else ""
        trainer = trainer or KerasTrainer()
        self._fallback = (slots, trainer, {k: v for k, v in runner_options.items() if k == "max_runs_per_worker"})
        try:
            self.runner = runner_type(store, slots, self._end, trainer, **runner_options)
        except RunnerUnavailable as error:
            # The documented choice (docs/cluster.md): an unreachable cluster does not stop
            # the class; this server trains, in worker processes, and every page says so.
            self.runner = self._fallback_runner(str(error))
        self.runner.on_unavailable = self._fall_back
        # Runs a cluster still trains for this store (after a restart) are live again; the others left
        # active by a process that ended are marked interrupted.
        self.runner.recover(self._adopt)
        with self._lock:
            live = frozenset(self._live)
        try:
            store.mark_interrupted(live_ids=live)
        except StoreError as error:  # a full disk: they are marked at the next start that can save them
            log.warning("could not mark interrupted runs: %s", error)

    def _fallback_runner(self, reason: str):
        self.notice = FALLBACK_NOTICE.format(reason=reason)
        log.warning(self.notice)
        slots, trainer, options = self._fallback
        return runner_class("process")(self.store, slots, self._end, trainer, **options)

    def _fall_back(self, reason: str) -> None:
        """The runner can no longer train (its cluster went away while the app ran): the same choice as at
        start-up. Runs waiting for it move, in order, to worker processes of this server; the runs it was
        training end through it (failed, or finished where their machine still answered)."""
        lost = self.runner
        replacement = self._fallback_runner(reason)
        with self._lock:
            self.runner = replacement
            for run, continue_training in lost.queue.drain():
                replacement.submit(run, continue_training=continue_training)

    @property
    def param_budget(self) -> int:
        """The most parameters a model may have on this server (the policy's)."""
        return self.policy.param_budget

    @property
    def memory_budget_mb(self) -> float:
        """The most training memory a run may need, as analyze() estimates it (the policy's)."""
        return self.policy.memory_budget_mb

    # --- starting --------------------------------------------------------------------------------

    def check(self, spec: dict, dataset: str, hyperparameters: Hyperparameters) -> list[str]:
        """Every reason this run could not train on this server, in plain words (empty when it can); whose
        data set it is and a challenge's rules are the policy's too (``self.policy.problems``)."""
        return self.policy.problems(spec, hyperparameters, dataset)

    def analyze(self, spec: dict, data, batch_size: int | None):
        """analyze() against ``data`` with this server's parameter and memory budgets at ``batch_size``."""
        return self.policy.analyze(spec, data, batch_size)

    def _waiting_problem(self, owner: str) -> str | None:
        """The message when ``owner`` already has the most runs waiting for a slot (call with the lock held)."""
        runs = [*self._live.values(), *self._admitting.values()]
        waiting = sum(1 for run in runs if run.owner == owner and run.status == Status.QUEUED)
        if waiting < self.max_waiting_per_user:
            return None
        return (
            f"You already have {waiting} run(s) waiting for a free training slot, the most one person may have: "
            "wait for one of them to start, or stop one, then train again."
        )

    def start(
        self,
        spec: dict,
        dataset: str,
        hyperparameters: Hyperparameters,
        *,
        owner: str = "",
        name: str = "",
        parent_id: str | None = None,
        challenge=None,
        learner: str = "",
        experiment: str | None = None,
    ) -> Run:
        """Queue a run and return it at once; raises RunRejected with the reasons when it cannot train.

        With a classroom ``challenge`` (core.runs.challenges.Challenge) its rules are enforced too; ``experiment``
        tags the run as a variant of that experiment (core.experiments).
        """
        if challenge is not None:
            challenge = self._current_challenge(challenge.code, challenge)
        assessment = self.policy.assess(spec, hyperparameters, dataset, owner=owner, challenge=challenge)
        if assessment.problems:
            raise RunRejected(assessment.problems)
        data, analysis, params = assessment.data, assessment.analysis, assessment.params
        run = Run(
            spec,
            dataset,
            hyperparameters,
            owner=owner,
            name=clean_name(name, RUN_NAME_CHARS),
            params=params,
            parent_id=parent_id,
            challenge=challenge.code if challenge is not None else None,
            learner=clean_name(learner, LEARNER_NAME_CHARS),
            experiment=experiment,
            task=data.task,
        )
        self._admit(run, analysis)
        return run

    def prepare_next(self, spec: dict, dataset: str, hyperparameters: Hyperparameters) -> None:
        """The model a learner is about to train (the Train page, before Train is pressed): the runner's idle
        workers build and trace it ahead, so that its first chart point comes without that wait. Only a hint:
        nothing is checked or queued, and a run of other settings simply builds its own model."""
        self.runner.prepare_next(Preparation(spec, dataset, hyperparameters.to_dict()))

    def start_job(
        self,
        kind: str,
        spec: dict,
        dataset: str,
        hyperparameters: Hyperparameters,
        *,
        owner: str = "",
        options: dict | None = None,
        challenge=None,
    ) -> Run:
        """Queue a job (``kind`` in core.runs.record.Kind.JOBS: the learning-rate finder, a speed measurement)
        and return it at once; raises RunRejected with the reasons when it cannot train.

        A job is checked, queued, counted against its owner's waiting limit, trained by the runner and saved
        like a run, and its page polls it like a run (``job``); its answer is its results. It is never one
        of the owner's runs: ``get`` and ``list`` (and so run lists, compare, leaderboards, experiments and
        history) leave jobs out. ``challenge``: the one the owner trains for, whose data set they may use.
        """
        if kind not in Kind.JOBS:
            raise ValueError(f"Not a kind of job: {kind!r}")
        if challenge is not None:
            challenge = self._current_challenge(challenge.code, challenge)
        # A job trains no entry of the challenge: its rules are not asked, only whose data set it may use.
        assessment = self.policy.assess(
            spec, hyperparameters, dataset, owner=owner, challenge=challenge, challenge_rules=False
        )
        if assessment.problems:
            raise RunRejected(assessment.problems)
        data, analysis = assessment.data, assessment.analysis
        run = Run(
            spec,
            dataset,
            hyperparameters,
            owner=owner,
            name=JOB_NAMES[kind],
            params=analysis.total_params,
            task=data.task,
            kind=kind,
            options=options,
        )
        self._admit(run, analysis)
        return run

    def continue_run(self, run_id: str, extra_epochs: int, owner: str) -> Run:
        """Train the owner's ended run ``extra_epochs`` more from its saved weights and optimizer state."""
        problems = self.policy.more_epochs_problems(0, extra_epochs)  # a number of epochs at all, first
        if problems:
            raise RunRejected(problems)
        run = self.get(run_id, owner)
        if run is None:
            raise RunRejected(["This run no longer exists."])
        if not run.wait(0):
            raise RunRejected(["This run is still training: wait for it to end, then train it more."])
        run = self.store.load(run_id)  # a fresh copy with its full batch history, as saved at its end
        if run is None:
            raise RunRejected(["This run no longer exists."])
        if run.status not in (Status.FINISHED, Status.STOPPED):
            raise RunRejected(["Only a finished or stopped run with a saved model can train on."])
        problem = self.store.model_problem(run_id)  # missing or damaged: refused now, the run kept as it is
        if problem is None:
            problem = self.store.room_problem(self.store.model_path(run_id).stat().st_size)
        if problem is not None:
            raise RunRejected([problem])
        problems = self.policy.more_epochs_problems(run.epoch, extra_epochs)
        if not problems and run.challenge:  # the challenge as it is now: the teacher may have changed its cap
            problems = self.policy.more_epochs_problems(run.epoch, extra_epochs, self._current_challenge(run.challenge))
        if problems:
            raise RunRejected(problems)
        run.reopen(extra_epochs)
        self._admit(run, None, continue_training=True)  # it trains its saved model: nothing to analyse
        return run

    # --- the lifecycle: the one place runs are saved and ended ------------------------------------

    def _admit(self, run: Run, analysis: Analysis | None, continue_training: bool = False) -> None:
        """Save the run, then queue it: a run the store cannot take is refused and never shown."""
        run.analysis = analysis
        with self._lock:
            waiting = self._waiting_problem(run.owner)  # checked and reserved under one lock: no race
            if waiting is not None:
                raise RunRejected([waiting])
            self._admitting[run.id] = run
        try:
            self.store.save(run)
        except StoreError as error:
            raise RunRejected([error.public]) from None
        finally:
            with self._lock:
                self._admitting.pop(run.id, None)
        run.on_progress = self._save_progress
        with self._lock:  # not into a runner that is being replaced (``_fall_back``)
            self._live[run.id] = run
            self.runner.submit(run, continue_training=continue_training)
        self._save_unsaved()  # the store took this run: it may take the ends it could not take before
        self._changed(run)

    def add_listener(self, listener) -> None:
        """Call ``listener(run)`` whenever a run is queued, begins or ends an epoch, or ends (from the thread
        where that happened: keep it quick). The experiments' feeder (core.experiments.engine) wakes so."""
        with self._lock:
            self._listeners.append(listener)

    def _changed(self, run: Run) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(run)
            except Exception:  # a listener never stops a run's lifecycle
                log.exception("a run listener failed")

    def _adopt(self, run: Run) -> None:
        """A run the runner found still training after a restart: live again, saved as it progresses."""
        run.on_progress = self._save_progress
        with self._lock:
            self._live[run.id] = run

    def _save_progress(self, run: Run) -> None:
        """Save the run as it is now (when it begins training, after each epoch). When the store cannot take
        it (a full disk) the run is stopped, and ends failed with the store's reason (``_end``)."""
        try:
            self.store.save(run)
        except StoreError as error:
            log.warning("could not save run %s: %s", run.id, error)
            with self._lock:
                self._save_problems[run.id] = error.public
            run.request_stop()
        self._changed(run)

    def _end(self, run: Run, ending: Ending) -> None:
        """The runner's report that ``run`` is over: finish it, save it, wake its readers, forget it."""
        try:
            with self._lock:
                problem = self._save_problems.pop(run.id, None)
            if problem is not None:  # its history could not be saved: it failed, whatever the trainer says
                ending = Ending(Status.FAILED, problem)
            run.finish(ending.status, without_paths(ending.message), ending.results)
            self._save_end(run)
        except Exception:  # the readers must still be woken, and the slot must go on
            log.exception("could not save the end of run %s", run.id)
        finally:
            run.on_progress = None
            run.close()
            with self._lock:
                if self._live.get(run.id) is run:
                    del self._live[run.id]
            self._changed(run)

    def _save_end(self, run: Run) -> None:
        """Save an ended run. When the store cannot take it, the run fails with the store's reason, and its
        record without the batch history (the small part) is tried again; when even that cannot be saved it
        is kept in memory, failed, so that it is never shown as training and can be deleted. (After a
        restart, the store marks such a run interrupted.)"""
        try:
            self.store.save(run)
            return
        except StoreError as error:
            log.warning("could not save the end of run %s: %s", run.id, error)
            run.finish(Status.FAILED, error.public)
        try:
            self.store.save(run, with_batches=False)
        except StoreError:
            with self._lock:
                self._unsaved[run.id] = run

    def _save_unsaved(self) -> None:
        with self._lock:
            unsaved = list(self._unsaved.values())
        for run in unsaved:
            try:
                self.store.save(run)
            except StoreError:
                return
            with self._lock:
                self._unsaved.pop(run.id, None)

    def _current_challenge(self, code: str, given=None):
        """The challenge as the store has it now (the teacher may have edited or closed it since)."""
        challenge = ChallengeStore(self.store).get(code)
        if challenge is not None:
            return challenge
        if given is not None:  # not stored (the API with a challenge of its own): its rules still hold
            return given
        raise RunRejected(["This run's classroom challenge was deleted by your teacher: it takes no more training."])

    # --- reading and controlling one's own runs ---------------------------------------------------
    # Every method here takes the asking user (``owner``): another user's run, or a malformed id, is
    # simply not found. Pages never compare owners themselves.

    def get(self, run_id: str, owner: str) -> Run | None:
        """The run, if it belongs to ``owner``; a live run is the live object, so its status is current.
        Never a job (``job``)."""
        run = self._any(run_id)
        return run if run is not None and run.owner == owner and run.kind == Kind.TRAINING else None

    def list(self, owner: str) -> list[Run]:
        """The owner's runs, newest first; live ones are the live objects, so their status is current.
        Jobs are left out (the store lists training runs only)."""
        return self._with_live(self.store.list(owner))

    def job(self, run_id: str, owner: str) -> Run | None:
        """The owner's job (``start_job``) with this id, live or ended, or None."""
        run = self._any(run_id) if isinstance(run_id, str) else None
        return run if run is not None and run.owner == owner and run.kind in Kind.JOBS else None

    def jobs(self, kind: str, owner: str) -> list[Run]:
        """The owner's jobs of one kind, newest first (live ones as the live objects)."""
        return self._with_live(self.store.list(owner, kind=kind))

    def speed_measurements(self, spec: dict, dataset: str, batch_size: int, owner: str | None = None) -> list[Run]:
        """Speed measurements (jobs of kind speed_probe) of this model, data set and batch size, newest first:
        the owner's, or with no owner this server's by anyone (the speed is the server's, not a user's)."""
        return [
            job
            for job in self._with_live(self.store.list(owner, kind=Kind.SPEED_PROBE))
            if job.dataset == dataset and job.spec == spec and job.hyperparameters.batch_size == batch_size
        ]

    def active_run(self, owner: str) -> Run | None:
        """The owner's newest single run still training or waiting (an experiment's runs are its own), or
        None: what a second tab, opened without the run in its address, follows."""
        with self._lock:
            live = [
                r
                for r in self._live.values()
                if r.owner == owner and r.active and not r.experiment and r.kind == Kind.TRAINING
            ]
        return max(live, key=lambda r: r.created, default=None)

    def pause(self, run_id: str, owner: str) -> bool:
        run = self._live_run(run_id, owner)
        return run.request_pause() if run is not None else False

    def resume(self, run_id: str, owner: str) -> bool:
        run = self._live_run(run_id, owner)
        return run.resume() if run is not None else False

    def stop(self, run_id: str, owner: str) -> bool:
        """Stop a training run after its current batch; a waiting run is cancelled at once."""
        run = self._live_run(run_id, owner)
        if run is None:
            return False
        return run.request_stop() and (self.runner.cancel(run_id) or True)

    def shared_model(self, run_id: str) -> dict | None:
        """The model a run was trained with — data set, spec and settings — whoever owns the run, or None.

        What someone else's address bar (``?run=ID``) gives: the model, as a share link would, never
        the run itself (its status, history, results or controls).
        """
        run = self.store.load(run_id) if isinstance(run_id, str) else None
        if run is None or run.kind != Kind.TRAINING:
            return None
        return {"dataset": run.dataset, "spec": run.spec, "hyperparameters": run.hyperparameters}

    def delete(self, run_id: str, owner: str) -> bool:
        """Delete an ended run and its files. A run still training must be stopped first."""
        run = self.get(run_id, owner)
        if run is None:
            return False
        # Ask the run itself (is its worker done with it, final state saved?): the worker thread
        # leaves _live only a moment after that, and a reader woken by run.wait() may delete at once.
        if not run.wait(0):
            raise RunRejected(["This run is still training: stop it first, then delete it."])
        try:
            deleted = self.store.delete(run_id)
        except StoreError as error:
            raise RunRejected([error.public]) from None
        with self._lock:
            unsaved = self._unsaved.pop(run_id, None)
        return deleted or unsaved is not None

    def queue_position(self, run_id: str) -> int | None:
        """1 when the run starts next; None when it is not waiting."""
        return self.runner.queue.position(run_id)

    # --- the classroom: reading other users' runs -------------------------------------------------

    def classroom_runs(self, challenge: str | None = None) -> list[Run]:
        """Runs trained for a classroom challenge (``challenge``'s only, when given), whoever owns them.

        Owner-less on purpose: a class leaderboard ranks every learner's runs, and a teacher's projector
        shows them. Only runs a learner trained *for a challenge* are visible this way, never others.
        """
        runs = [r for r in self.store.list() if r.challenge and (challenge is None or r.challenge == challenge)]
        return self._with_live(runs)

    def classroom_run(self, run_id: str) -> Run | None:
        """One run trained for a classroom challenge, whoever owns it (the teacher's projector)."""
        run = self._any(run_id)
        return run if run is not None and run.challenge and run.kind == Kind.TRAINING else None

    # --- inside ----------------------------------------------------------------------------------

    def _any(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._live.get(run_id) or self._unsaved.get(run_id)
        return run if run is not None else self.store.load(run_id)

    def _live_run(self, run_id: str, owner: str) -> Run | None:
        with self._lock:
            run = self._live.get(run_id)
        return run if run is not None and run.owner == owner else None

    def _with_live(self, runs: list[Run]) -> list[Run]:
        with self._lock:
            live = {**self._unsaved, **self._live}
        return [live.get(r.id, r) for r in runs]


_default: RunManager | None = None
_default_lock = threading.Lock()


def default_manager() -> RunManager:
    """One manager per process, on the default store (shared by every session of the app)."""
    global _default
    with _default_lock:
        if _default is None:
            settings = Settings.from_env()
            # The app's worker processes start once its first page is served (dashboard/runtime.py): their
            # TensorFlow import would compete with that page for the cores.
            options = (
                {"max_runs_per_worker": settings.worker_max_runs, "workers_at_start": False}
                if settings.runner == "process"
                else {}
            )
            if settings.runner == "ray":
                options = {
                    "max_runs_per_worker": settings.worker_max_runs,
                    "cpus_per_run": settings.ray_cpus_per_run,
                    "use_gpu": settings.ray_gpu,
                    "local_cpus": settings.ray_local_cpus or None,
                    "slots_from_cluster": not settings.max_trainings,  # unset: as many as the cluster holds
                }
            _default = RunManager(
                RunStore(),
                max_concurrent=settings.concurrency,
                param_budget=settings.param_budget,
                runner=settings.runner,
                memory_budget_mb=settings.memory_budget,
                max_waiting_per_user=settings.max_waiting_per_user,
                **options,
            )
        return _default


def reset_default_manager() -> None:
    """Forget the process's manager (its runs train on); the next default_manager() is built afresh from
    the settings then in force. For tests, and for a server that changed its store folder."""
    global _default
    with _default_lock:
        old, _default = _default, None
    if old is not None:
        old.runner.shutdown()
