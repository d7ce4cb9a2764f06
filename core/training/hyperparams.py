"""Training settings: optimizer registry and the hyperparameters of a run, with plain-language checks."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from core.messages import quote as _short


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

MAX_EPOCHS = 200
MAX_BATCH_SIZE = 4096
MAX_SEED = 2**31 - 1  # what every seeded library (NumPy, TensorFlow, Python) accepts
MAX_LIMIT = 10**7  # limit_train / limit_test: more than any data set here has
MAX_LEARNING_RATE = 10.0
MIN_LEARNING_RATE = 1e-7


@dataclass(frozen=True)
class Hyperparameters:
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
        """The settings in ``data``; unknown keys are ignored (see core.validation for the strict check)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def problems(self) -> list[str]:
        """Plain-language reasons these settings cannot be used; empty when they are fine."""
        found = []
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            found.append(f"Unknown optimizer {_short(self.optimizer)}: choose one of {', '.join(OPTIMIZERS)}.")
        lr = self.learning_rate
        if lr is not None and not (_number(lr) and MIN_LEARNING_RATE <= lr <= MAX_LEARNING_RATE):
            found.append(
                f"The learning rate must be a number from {MIN_LEARNING_RATE:g} to {MAX_LEARNING_RATE:g} "
                f"(got {_short(lr)})."
            )
        if not _whole(self.epochs) or not 1 <= self.epochs <= MAX_EPOCHS:
            found.append(f"Epochs must be a whole number from 1 to {MAX_EPOCHS} (got {_short(self.epochs)}).")
        if not _whole(self.batch_size) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            found.append(
                f"Batch size must be a whole number from 1 to {MAX_BATCH_SIZE} (got {_short(self.batch_size)})."
            )
        vs = self.validation_split
        if not (_number(vs) and 0 <= vs < 0.9):
            found.append(f"The validation split must be at least 0 and below 0.9 (got {_short(vs)}).")
        if not _whole(self.seed) or not 0 <= self.seed <= MAX_SEED:
            found.append(f"The seed must be a whole number from 0 to {MAX_SEED:,} (got {_short(self.seed)}).")
        patience = self.early_stopping_patience
        if patience is not None and (not _whole(patience) or not 1 <= patience <= MAX_EPOCHS):
            found.append(
                f"Early-stopping patience must be a whole number from 1 to {MAX_EPOCHS} (got {_short(patience)})."
            )
        if patience is not None and self.validation_split == 0:
            found.append("Early stopping watches the validation loss: set a validation split above 0.")
        if not isinstance(self.loss, str) or self.loss not in LOSSES:
            found.append(f"Unknown loss {_short(self.loss)}: choose one of {', '.join(LOSSES)}.")
        for name in ("limit_train", "limit_test"):
            value = getattr(self, name)
            if value is not None and (not _whole(value) or not 1 <= value <= MAX_LIMIT):
                found.append(
                    f"{name.replace('_', ' ').capitalize()} must be a whole number from 1 to {MAX_LIMIT:,} "
                    f"(got {_short(value)})."
                )
        return found


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    """A real, finite number: not True/False, not NaN or infinity, not text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
