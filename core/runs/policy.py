"""The limits of a run, decided in one place: what stops a run from training, and the most it may ask for.

The run manager asks it before a run is queued, the experiment planner for every variant before anything
trains, and the pages for the caps of their fields (the most parameters, the most epochs), so a limit is
never written twice. The problems come in the order the manager has always refused a run in: the model,
the settings and the room on disk first; then whose data set it is; then a challenge's rules.

A challenge is anything with core.runs.challenges.Challenge's ``problems``, ``more_epochs_problems``,
``max_params``, ``max_epochs`` and ``dataset``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.config import DEFAULT_PARAM_BUDGET
from core.data.datasets import DatasetUnavailable, load_dataset
from core.model.spec import Analysis, analyze_for
from core.runs.store import RunStore, model_file_bytes
from core.training.hyperparams import MAX_EPOCHS, Hyperparameters

NOT_YOUR_DATASET = "This data set was imported by someone else: choose one of yours."

# (spec, hyperparameters) -> (parameter count, reasons the variant cannot train: empty when it can)
Check = Callable[[dict, Hyperparameters], tuple[int, list[str]]]


@dataclass(frozen=True)
class Maxima:
    """The most a run may ask for here (in a challenge: the lower of the server's and the challenge's)."""

    params: int
    epochs: int  # in all, over every "train more"
    memory_mb: float | None  # the training memory analyze() estimates; None: not limited

    def more_epochs(self, epochs_done: int) -> int:
        """The most epochs a run that has ``epochs_done`` may still train (0 or less: none)."""
        return self.epochs - epochs_done


@dataclass(frozen=True)
class Assessment:
    """A run's data set and analysis (made once, handed to the trainer) and every reason it cannot train."""

    data: object | None
    analysis: Analysis | None
    problems: list[str] = field(default_factory=list)

    @property
    def params(self) -> int:
        return self.analysis.total_params if self.analysis is not None else 0


class RunPolicy:
    """Args:
    param_budget: the most parameters a model may have on this server.
    memory_budget_mb: the most training memory one run may need, as analyze() estimates it (None: any).
    store: the run store whose free space a run needs (None: the disk is not asked).
    """

    def __init__(
        self,
        param_budget: int = DEFAULT_PARAM_BUDGET,
        memory_budget_mb: float | None = None,
        store: RunStore | None = None,
    ):
        self.param_budget = param_budget
        self.memory_budget_mb = memory_budget_mb
        self.store = store

    def allowed_maxima(self, challenge=None) -> Maxima:
        """The most parameters and epochs a run may have, here and in ``challenge`` (when given)."""
        params, epochs = self.param_budget, MAX_EPOCHS
        if challenge is not None:
            params, epochs = min(params, challenge.max_params), min(epochs, challenge.max_epochs)
        return Maxima(params, epochs, self.memory_budget_mb)

    def analyze(self, spec: dict, data, batch_size: int | None) -> Analysis:
        """analyze() against ``data`` with this server's parameter and memory budgets at ``batch_size``."""
        return analyze_for(
            spec, data, param_budget=self.param_budget, batch_size=batch_size, memory_budget_mb=self.memory_budget_mb
        )

    def assess(
        self, spec: dict, hyperparameters, dataset, *, owner: str | None = None, challenge=None, challenge_rules=True
    ) -> Assessment:
        """The data set, the analysis (once) and the problems of a run on the data set named ``dataset``.

        Args:
            owner: who asks; None leaves out whose data set it is (a plan checked before its owner starts it).
            challenge: the challenge the run is for, whose rules it must follow (and whose data set its
                learners may use).
            challenge_rules: False for a job (the learning-rate finder, a speed measurement): it is no entry
                of the challenge, so only whose data set it is asks the challenge.
        """
        if not isinstance(hyperparameters, Hyperparameters):
            return Assessment(None, None, ["The training settings are not in the expected form."])
        if not isinstance(dataset, str):
            return Assessment(None, None, ["The data set must be given by its name."])
        try:
            data = load_dataset(dataset)
        except DatasetUnavailable as error:
            return Assessment(None, None, [str(error)])
        return self.assess_on(
            spec, hyperparameters, data, owner=owner, challenge=challenge, challenge_rules=challenge_rules
        )

    def assess_on(
        self, spec: dict, hyperparameters: Hyperparameters, data, *, owner=None, challenge=None, challenge_rules=True
    ) -> Assessment:
        """``assess`` on a data set already at hand (anything with name, input_shape, num_classes and task)."""
        analysis = self.analyze(spec, data, hyperparameters.batch_size)
        problems = [p.text() for p in analysis.problems] + hyperparameters.problems()
        room = self.store.room_problem(model_file_bytes(analysis.total_params)) if self.store is not None else None
        problems += [room] if room else []
        if not problems and owner is not None:
            problems = self._owner_problems(data, owner, challenge)
        if not problems and challenge is not None and challenge_rules:
            problems = challenge.problems(data.name, analysis.total_params, hyperparameters)
        return Assessment(data, analysis, problems)

    def problems(self, spec: dict, hyperparameters, dataset, owner: str | None = None, challenge=None) -> list[str]:
        """Every reason this run could not train, in plain words (empty when it can)."""
        return self.assess(spec, hyperparameters, dataset, owner=owner, challenge=challenge).problems

    @staticmethod
    def _owner_problems(data, owner: str, challenge) -> list[str]:
        # A teacher's own data set is open to the learners of the challenge that uses it, for training only.
        data_owner = getattr(data, "owner", "")
        if data_owner and data_owner != owner and (challenge is None or challenge.dataset != data.name):
            return [NOT_YOUR_DATASET]
        return []

    def more_epochs_problems(self, epochs_done: int, extra_epochs, challenge=None) -> list[str]:
        """Why a run with ``epochs_done`` cannot train ``extra_epochs`` more (empty when it can)."""
        if not isinstance(extra_epochs, int) or not 1 <= extra_epochs <= MAX_EPOCHS:
            return [f"Choose between 1 and {MAX_EPOCHS} more epochs."]
        if epochs_done + extra_epochs > MAX_EPOCHS:
            return [f"A run can have at most {MAX_EPOCHS} epochs in all; it has {epochs_done}."]
        return challenge.more_epochs_problems(epochs_done, extra_epochs) if challenge is not None else []

    def check(self, dataset, *, owner: str | None = None, challenge=None) -> Check:
        """What a plan asks of each variant (core.experiments.plan): its parameters and its problems.

        ``dataset`` is a data set's name, or one at hand (anything with name, input_shape, num_classes, task).
        """
        data = load_dataset(dataset) if isinstance(dataset, str) else dataset

        def check(spec: dict, hyperparameters: Hyperparameters) -> tuple[int, list[str]]:
            assessment = self.assess_on(spec, hyperparameters, data, owner=owner, challenge=challenge)
            return assessment.params, assessment.problems

        return check
