"""Training settings: optimizer registry and the hyperparameters of a run, with plain-language checks."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


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
}
COSINE_FLOOR = 0.02  # the cosine schedule ends at 2 % of the learning rate, so "train more" still learns a little

MAX_EPOCHS = 200
MAX_BATCH_SIZE = 4096


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
    learning_rate_schedule: str = "constant"  # see SCHEDULES

    @property
    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return OPTIMIZERS[self.optimizer].default_learning_rate if self.optimizer in OPTIMIZERS else 0.001

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Hyperparameters:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def problems(self) -> list[str]:
        """Plain-language reasons these settings cannot be used; empty when they are fine."""
        found = []
        if self.optimizer not in OPTIMIZERS:
            found.append(f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}.")
        lr = self.learning_rate
        if lr is not None and (not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= 10):
            found.append(f"The learning rate must be a number above 0 and at most 10 (got {lr}).")
        if not _whole(self.epochs) or not 1 <= self.epochs <= MAX_EPOCHS:
            found.append(f"Epochs must be a whole number from 1 to {MAX_EPOCHS} (got {self.epochs}).")
        if not _whole(self.batch_size) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            found.append(f"Batch size must be a whole number from 1 to {MAX_BATCH_SIZE} (got {self.batch_size}).")
        vs = self.validation_split
        if not isinstance(vs, (int, float)) or not 0 <= vs < 0.9:
            found.append(f"The validation split must be at least 0 and below 0.9 (got {vs}).")
        if not _whole(self.seed) or self.seed < 0:
            found.append(f"The seed must be a whole number, 0 or more (got {self.seed}).")
        patience = self.early_stopping_patience
        if patience is not None and (not _whole(patience) or not 1 <= patience <= MAX_EPOCHS):
            found.append(f"Early-stopping patience must be a whole number from 1 to {MAX_EPOCHS} (got {patience}).")
        if patience is not None and self.validation_split == 0:
            found.append("Early stopping watches the validation loss: set a validation split above 0.")
        if self.learning_rate_schedule not in SCHEDULES:
            found.append(
                f"Unknown learning-rate schedule {self.learning_rate_schedule!r}: choose one of {', '.join(SCHEDULES)}."
            )
        if self.loss not in LOSSES:
            found.append(f"Unknown loss {self.loss!r}: choose one of {', '.join(LOSSES)}.")
        for name in ("limit_train", "limit_test"):
            value = getattr(self, name)
            if value is not None and (not _whole(value) or value < 1):
                found.append(f"{name.replace('_', ' ').capitalize()} must be a whole number above 0 (got {value}).")
        return found


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
