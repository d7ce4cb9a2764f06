"""Training settings: optimizer registry and the hyperparameters of a run, with plain-language checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from core.messages import quote as _short
from core.numbers import is_finite_number, is_whole_number


@dataclass(frozen=True)
class OptimizerInfo:
    keras_name: str
    default_learning_rate: float
    summary: str


OPTIMIZERS: dict[str, OptimizerInfo] = {
    "adam": OptimizerInfo("Adam", 0.001, "Adapts the step size for every weight; a reliable default."),
    "sgd": OptimizerInfo("SGD", 0.01, "Plain gradient descent, as in the original notebook; slower but simple."),
    "rmsprop": OptimizerInfo("RMSprop", 0.001, "Scales steps by recent gradient size; good for noisy problems."),
    "adagrad": OptimizerInfo("Adagrad", 0.01, "Takes smaller steps for weights that have already moved a lot."),
    "nadam": OptimizerInfo("Nadam", 0.001, "Adam with Nesterov momentum; often a little faster than Adam."),
}


@dataclass(frozen=True)
class LossInfo:
    keras_name: str
    title: str
    summary: str


# Regression only: classification always uses cross-entropy.
LOSSES: dict[str, LossInfo] = {
    "mse": LossInfo(
        "mean_squared_error",
        "Mean squared error (MSE)",
        "Squares each error, so big mistakes count much more than small ones: the usual choice.",
    ),
    "mae": LossInfo(
        "mean_absolute_error",
        "Mean absolute error (MAE)",
        "Counts each error by its size: a few unusual rows (outliers) sway it less.",
    ),
}

# How the learning rate changes during a run. "cosine" is what lets the `fast` preset take big steps early
# and still settle: measured by bench/fast_search.py.
SCHEDULES: dict[str, str] = {
    "constant": "The same learning rate for every batch.",
    "cosine": "Starts at the learning rate and lowers it smoothly, along a cosine curve, to nearly zero by the "
    "last epoch: big steps early, fine steps at the end.",
    "one_cycle": "Rises from a tenth of the learning rate to all of it over the first 30 % of the batches, then "
    "lowers it along a cosine to nearly zero by the last one: gentle first steps while the weights are random.",
}
COSINE_FLOOR = 0.02  # the cosine schedule ends at 2 % of the learning rate, so "train more" still learns a little
ONE_CYCLE_START = 0.1  # the one-cycle schedule's first batch: a tenth of the learning rate
ONE_CYCLE_WARMUP = 0.3  # ... rising to the full rate over this share of the run's batches

MAX_EPOCHS = 200
MAX_BATCH_SIZE = 4096
MAX_SEED = 2**31 - 1  # what every seeded library (NumPy, TensorFlow, Python) accepts
MAX_LIMIT = 10**7  # limit_train / limit_test: more than any data set here has


@dataclass(frozen=True)
class Field:
    """One training setting: its type, the engine's bounds, and how the app offers it.

    ``Hyperparameters.problems()`` checks values against ``low``/``high``; share links and the Train
    page's widgets use the ``app_*`` range (what a widget can produce, within the engine's bounds);
    the CLI makes a ``--flag`` of each field with ``cli`` set.
    """

    name: str
    kind: type  # int (a whole number), float, or str (a key of ``choices``)
    label: str  # the widget's label
    subject: str  # the setting in a sentence: "The learning rate must be ..."
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is not allowed ("above 0")
    high_open: bool = False  # high itself is not allowed ("below 0.9")
    optional: bool = False  # None is allowed (the optimizer's default, no limit, off)
    choices: tuple[str, ...] = ()  # str fields: the registry's keys
    app_low: float | None = None  # the app's widget range, where narrower than the engine's bounds
    app_high: float | None = None
    step: float | None = None  # the widget's step
    options: tuple = ()  # a select box's values, when the widget offers a list (batch sizes)
    cli: bool = True

    @property
    def app_range(self) -> tuple[float, float]:
        """The smallest and largest value the app's widgets (and so share links) may carry."""
        low = self.app_low if self.app_low is not None else self.low
        high = self.app_high if self.app_high is not None else self.high
        return low, high

    def problem(self, value, *, in_app: bool = False) -> str | None:
        """The plain-language reason ``value`` cannot be used, or None when it can.

        ``in_app``: within the app's range (``app_range``, what share links carry) rather than the engine's.
        """
        if in_app and (self.app_low is not None or self.app_high is not None):
            narrower = replace(
                self,
                low=self.app_range[0],
                high=self.app_range[1],
                low_open=self.low_open and self.app_low is None,
                high_open=self.high_open and self.app_high is None,
                app_low=None,
                app_high=None,
            )
            return narrower.problem(value)
        if value is None and self.optional:
            return None
        if self.kind is str:
            if isinstance(value, str) and value in self.choices:
                return None
            return f"Unknown {self.subject} {_short(value)}: choose one of {', '.join(self.choices)}."
        ok = is_whole_number(value) if self.kind is int else is_finite_number(value)
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        return None if ok else f"{self.subject} must be {self._rule()} (got {_short(value)})."

    def _rule(self) -> str:
        low, high = _plain(self.low), _plain(self.high)
        if self.kind is int:
            if self.high is not None:
                return (
                    f"a whole number from {low} to {self.high:,}"
                    if self.high >= 10_000
                    else f"a whole number from {low} to {high}"
                )
            return f"a whole number above {_plain(self.low - 1)}" if self.low else f"a whole number, {low} or more"
        lower = f"above {low}" if self.low_open else f"at least {low}"
        upper = f"below {high}" if self.high_open else f"at most {high}"
        return f"a number {lower} and {upper}"


def _plain(value) -> str:
    """A bound as a person reads it: 0.9, 10, 0.00001 (not 1e-05)."""
    if isinstance(value, float) and 0 < abs(value) < 1e-4:
        return f"{value:.10f}".rstrip("0")
    return f"{value:g}" if isinstance(value, float) else str(value)


# The one table of training settings (as TensorFlow Playground's State lists its own): validation,
# share links, the CLI and the Train page's widgets all read it. Problems are reported in this order.
HYPERPARAMETER_FIELDS: tuple[Field, ...] = (
    Field(
        "optimizer",
        str,
        "Optimizer",
        "optimizer",
        "adam",
        "How the weights are updated after each batch.",
        choices=tuple(OPTIMIZERS),
    ),
    Field(
        "learning_rate",
        float,
        "Learning rate",
        "The learning rate",
        None,
        "How big each update step is. Too high and the loss jumps around or becomes NaN; too low and learning is slow.",
        low=0.0,
        high=10.0,
        low_open=True,
        optional=True,  # None: the optimizer's usual default
        app_low=1e-5,
        step=0.0005,
    ),
    Field(
        "learning_rate_schedule",
        str,
        "Learning-rate schedule",
        "learning-rate schedule",
        "constant",
        " ".join(f"{name}: {text}" for name, text in SCHEDULES.items()),
        choices=tuple(SCHEDULES),
    ),
    Field(
        "label_smoothing",
        float,
        "Label smoothing",
        "Label smoothing",
        0.0,
        "Aim a little below 100 % for the right class (0.1: 91 %, the rest shared by the others), so the network "
        "is not pushed to be ever more certain. 0 = off. Classification only.",
        low=0.0,
        high=0.5,
        high_open=True,
        app_high=0.3,
        step=0.05,
    ),
    Field(
        "epochs",
        int,
        "Epochs",
        "Epochs",
        5,
        "How many times the network sees the whole training set.",
        low=1,
        high=MAX_EPOCHS,
    ),
    Field(
        "batch_size",
        int,
        "Batch size",
        "Batch size",
        64,
        f"How many images are used for each update (at most {MAX_BATCH_SIZE}).",
        low=1,
        high=MAX_BATCH_SIZE,
        options=(16, 32, 64, 128, 256, 512),
    ),
    Field(
        "validation_split",
        float,
        "Validation split",
        "The validation split",
        0.1,
        "The share of training images held back to check, after each epoch, how well the network does on "
        "images it did not learn from.",
        low=0.0,
        high=0.9,
        high_open=True,
        app_high=0.5,
        step=0.05,
    ),
    Field(
        "seed",
        int,
        "Seed",
        "The seed",
        42,
        "The same seed and settings give the same run again.",
        low=0,
        high=MAX_SEED,
    ),
    Field(
        "early_stopping_patience",
        int,
        "Early stopping: patience (0 = off)",
        "Early-stopping patience",
        None,
        "Stop when the validation loss has not improved for this many epochs in a row, and keep the weights "
        "of the best epoch.",
        low=1,
        high=MAX_EPOCHS,
        optional=True,  # None: no early stopping
        cli=False,
    ),
    Field(
        "target_accuracy",
        float,
        "Stop at validation accuracy (%, 0 = off)",
        "The target accuracy",
        None,
        "Stop the run after the first epoch whose validation accuracy reaches this share, and record how long "
        "it took: a race to a target. Off when empty.",
        low=0.0,
        high=1.0,
        low_open=True,
        optional=True,  # None: train all the epochs
        step=0.005,
    ),
    Field(
        "loss",
        str,
        "Loss",
        "loss",
        "mse",
        "What the network makes smaller while it learns to predict the number.",
        choices=tuple(LOSSES),
        cli=False,
    ),
    Field(
        "limit_train",
        int,
        "Use only the first N training images (0 = all)",
        "Limit train",
        None,
        "Train on the first N examples only (quick experiments).",
        low=1,
        high=MAX_LIMIT,
        optional=True,
        step=1000,
    ),
    Field(
        "limit_test",
        int,
        "Use only the first N test images",
        "Limit test",
        None,
        "Test on the first N examples only.",
        low=1,
        high=MAX_LIMIT,
        optional=True,
    ),
)
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in HYPERPARAMETER_FIELDS}


@dataclass(frozen=True)
class Hyperparameters:
    """A run's training settings; the fields, bounds, labels and defaults are in HYPERPARAMETER_FIELDS."""

    optimizer: str = "adam"
    learning_rate: float | None = None  # None means the optimizer's usual default
    epochs: int = 5
    batch_size: int = 64
    validation_split: float = 0.1
    seed: int = 42
    limit_train: int | None = None  # train on the first N examples only (quick experiments, tests)
    limit_test: int | None = None
    early_stopping_patience: int | None = None  # stop after this many epochs without a better val loss
    loss: str = "mse"  # regression data sets only (see LOSSES); classification uses cross-entropy
    learning_rate_schedule: str = "constant"  # see SCHEDULES
    label_smoothing: float = 0.0  # classification only: the right class's aim is 1 - this
    target_accuracy: float | None = None  # stop once the validation accuracy reaches this share

    @property
    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        known = isinstance(self.optimizer, str) and self.optimizer in OPTIMIZERS
        return OPTIMIZERS[self.optimizer].default_learning_rate if known else 0.001

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Hyperparameters:
        """The settings in ``data``; unknown keys are ignored (see core.training.validation for the strict check)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_optimizer(self, optimizer: str, *, keep_learning_rate: bool) -> Hyperparameters:
        """These settings with another optimizer: the one rule for the Train page, experiments and the CLI.

        Args:
            keep_learning_rate: the learner chose this learning rate (typed it, or took the finder's): it
                stays. Otherwise (a preset's, tuned for its own optimizer, or the default) the new
                optimizer trains at its own usual rate (``OPTIMIZERS[...].default_learning_rate``): SGD at
                Adam's 0.001 learns so slowly that it looks broken.
        """
        return replace(self, optimizer=optimizer, learning_rate=self.learning_rate if keep_learning_rate else None)

    def problems(self, *, in_app: bool = False) -> list[str]:
        """Plain-language reasons these settings cannot be used; empty when they are fine.

        ``in_app``: the app's ranges (the Train page: what it trains, a share link carries), else the engine's.
        """
        found = [p for f in HYPERPARAMETER_FIELDS if (p := f.problem(getattr(self, f.name), in_app=in_app)) is not None]
        if self.early_stopping_patience is not None and self.validation_split == 0:
            found.append("Early stopping watches the validation loss: set a validation split above 0.")
        if self.target_accuracy is not None and self.validation_split == 0:
            found.append("A target accuracy is checked on the validation images: set a validation split above 0.")
        return found
