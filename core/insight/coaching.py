"""Coaching on the curves: plain-language findings about a run, each backed by the run's own numbers.

Rules are plain functions over the per-epoch history (dicts with loss, accuracy, val_loss,
val_accuracy) and the per-batch history (dicts with step, epoch, loss). Each rule either finds
something — the epoch it refers to, a statement quoting the numbers, what to try — or says nothing.
A "good fit" is only reported when no rule fires and there is enough history to judge.

A loss that exploded and then came back to a finite number, and accuracy near guessing, are problems
too: a run is never called healthy because its last numbers look calm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.model.augmentation import describe as describe_augmentation
from core.model.augmentation import without_augmentation
from core.model.keras_build import KERAS_BATCH_NORM_MOMENTUM, has_batch_norm
from core.model.spec import is_image_spec
from core.runs.record import Status
from core.training.hyperparams import OPTIMIZERS

FLAT_CHANGE = 0.02  # training loss changed by less than 2 % over the run: it is not learning
DIVERGE_RISE = 0.10  # training loss ended 10 % above where it started: steps are too big
OVERFIT_RISE = 0.02  # validation loss ended 2 % above its minimum (less is noise)
OVERFIT_EPOCHS = 2  # ... and had at least this many epochs after that minimum to rise
EDGE_BATCHES = 5  # batches averaged at each end of the run (single batches are noisy)
MIN_BATCHES = 2 * EDGE_BATCHES
MIN_EPOCHS = 2
EXPLODE_FACTOR = 10  # training loss reached 10 times its start (or the loss of guessing): the weights blew up
CHANCE_MARGIN = 0.15  # accuracy less than 15 % of the way from guessing to always right is "near chance"
AUGMENTATION = "augmentation"
MIN_VALIDATION_EXAMPLES = 30  # fewer: the validation loss moves by chance, too much to judge overfitting on
BATCH_NORM_UNSETTLED = 0.05  # BatchNormalization's running averages still hold 5 % or more of their start
BATCH_NORM_GAP = 0.25  # ... and validation accuracy is this far below training accuracy
BATCH_NORM_LOSS_RATIO = 3  # ... or (a regression) the validation loss is this many times the training loss
_NOT_FINITE = re.compile(r"\bNaN\b|infinite", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    kind: str  # "overfitting", "flat", "diverging", "chance", "batch_norm", "small_validation", "good", or
    # "augmentation" (a note, not a problem)
    title: str
    epoch: int | None  # the (1-based) epoch the finding refers to
    statement: str  # what the numbers show
    suggestion: str  # what to try next

    @property
    def is_problem(self) -> bool:
        return self.kind not in ("good", AUGMENTATION)


@dataclass(frozen=True)
class Curves:
    """The histories a rule looks at, plus what is known about the run."""

    epochs: Sequence[dict]
    batches: Sequence[dict]
    has_dropout: bool = False
    learning_rate: float | None = None
    limit_train: int | None = None  # the examples it trained on, when fewer than the data set has
    failure: str = ""  # the run's failure message, when it failed
    examples: str = "images"  # what the data set holds: "images", or "rows" of a table
    classes: int | None = None  # a classification's number of classes (None: a regression, or unknown)
    test_accuracy: float | None = None  # on the test set, once the run has one
    optimizer: str | None = None  # its key in core.training.hyperparams.OPTIMIZERS
    batch_norm_momentum: float | None = None  # the BatchNormalization layers' momentum (None: there are none)
    batches_per_epoch: int | None = None
    validation_examples: int | None = None  # the size of the validation set, when known
    linear: bool = False  # a single Dense layer: no hidden layer to drop out of

    def series(self, key: str) -> list[float]:
        return [float(e[key]) for e in self.epochs if e.get(key) is not None]

    @property
    def guessing_loss(self) -> float | None:
        """Cross-entropy of guessing every class alike, ln(classes): where an untrained classifier starts."""
        return math.log(self.classes) if self.classes and self.classes >= 2 else None

    @property
    def chance(self) -> float | None:
        """The accuracy of guessing: 1 / classes."""
        return 1 / self.classes if self.classes and self.classes >= 2 else None

    def accuracy(self) -> tuple[float, str] | None:
        """The run's latest accuracy and where it was measured: the test set, else (after at least
        MIN_EPOCHS epochs: one epoch of a longer run is too early to judge) the last epoch's validation
        set, else its training batches."""
        if _finite(self.test_accuracy):
            return self.test_accuracy, "Test accuracy"
        if len(self.epochs) < MIN_EPOCHS:
            return None
        for key, where in (("val_accuracy", "Validation accuracy"), ("accuracy", "Training accuracy")):
            values = [v for v in self.series(key) if _finite(v)]
            if values:
                return values[-1], f"{where} in epoch {len(self.epochs)}"
        return None

    def near_chance(self) -> tuple[float, str] | None:
        """The accuracy (and where it was measured) when it is barely better than guessing, else None."""
        measured, chance = self.accuracy(), self.chance
        if measured is None or chance is None:
            return None
        return measured if measured[0] < chance + CHANCE_MARGIN * (1 - chance) else None


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "NaN (not a number)" if math.isnan(value) else "infinite"
    if abs(value) >= 1e15:
        return f"{value:.3g}"
    if abs(value) >= 1e3:
        return f"{value:,.0f}"  # 54,294 reads better than 5.43e+04 or 54294.060
    return f"{value:.3g}" if 0 < abs(value) < 1e-3 else f"{value:.3f}"


def _pct(fraction: float) -> str:
    return f"{100 * abs(fraction):.1f} %"


def _lr_text(curves: Curves) -> str:
    return f" (now {curves.learning_rate:g})" if curves.learning_rate is not None else ""


def _training_ends(curves: Curves) -> tuple[float, float, str] | None:
    """Training loss at the start and the end of the run, and how that span is described.

    Batches are preferred: the first batches show the loss before learning, which the epoch-1
    average already hides.
    """
    losses = [b["loss"] for b in curves.batches if _finite(b.get("loss"))]
    if len(losses) >= MIN_BATCHES:
        start = sum(losses[:EDGE_BATCHES]) / EDGE_BATCHES
        end = sum(losses[-EDGE_BATCHES:]) / EDGE_BATCHES
        return start, end, f"over {len(losses)} batches (average of the first and last {EDGE_BATCHES})"
    losses = [v for v in curves.series("loss") if _finite(v)]
    if len(losses) >= MIN_EPOCHS:
        return losses[0], losses[-1], f"from epoch 1 to epoch {len(losses)}"
    return None


# --- the rules -----------------------------------------------------------------------------------


def _lower_rate(curves: Curves) -> str:
    """What to try when the steps are too big: the optimizer's usual learning rate, or the finder."""
    info = OPTIMIZERS.get(curves.optimizer or "")
    usual = f"try {info.default_learning_rate:g} for {info.keras_name}" if info else "try a tenth of it"
    return (
        f"Lower the learning rate{_lr_text(curves)} — {usual} — or let the Learning-rate finder on Train pick one, "
        "and train again; Adam with 0.001 is a safe start."
    )


def _peak(curves: Curves) -> tuple[float, float, str, int] | None:
    """The training loss at the start, its highest value, where that was, and the epoch of that peak.

    The start is the very first batch (the loss before any step: an explosion can come within the first
    few batches), or epoch 1 when no batches are stored.
    """
    batches = [b for b in curves.batches if _finite(b.get("loss"))]
    if len(batches) >= 2:
        top = max(batches, key=lambda b: b["loss"])
        where = f"in batch {top['step']} (epoch {top['epoch']})"
        return batches[0]["loss"], top["loss"], where, int(top["epoch"])
    epochs = [e for e in curves.epochs if _finite(e.get("loss"))]
    if not epochs:
        return None
    top = max(epochs, key=lambda e: e["loss"])
    return epochs[0]["loss"], top["loss"], f"in epoch {top['epoch']}", int(top["epoch"])


def _exploded(curves: Curves) -> Finding | None:
    """A training loss that shot far above its start, or far above the loss of guessing, even if it came
    back down to a finite number later: the weights were thrown off and the network learned nothing."""
    peak = _peak(curves)
    if peak is None:
        return None
    start, top, where, epoch = peak
    guessing = curves.guessing_loss
    above_start = start > 0 and top >= EXPLODE_FACTOR * start
    above_guessing = guessing is not None and top >= EXPLODE_FACTOR * guessing
    if not (above_start or above_guessing):
        return None
    if above_start:
        rise = f"from {_fmt(start)} at the start to {_fmt(top)} {where}, {top / start:,.0f} times as high"
    else:
        rise = f"to {_fmt(top)} {where}"
    losses = [b["loss"] for b in curves.batches if _finite(b.get("loss"))] or curves.series("loss")
    statement = f"Training loss shot up {rise}"
    if guessing is not None:
        statement += f", while guessing among {curves.classes} classes scores a loss of {_fmt(guessing)}"
    statement += (
        f"; it ended at {_fmt(losses[-1])}. The steps were so big that the weights were thrown far off, "
        "and a loss that comes back down afterwards does not mean the network learned."
    )
    if (chance := curves.near_chance()) is not None:
        statement += f" {chance[1]} is {_pct(chance[0])}, about what guessing gets ({_pct(curves.chance)})."
    return Finding("diverging", "The loss exploded", epoch, statement, _lower_rate(curves))


def diverging(curves: Curves) -> Finding | None:
    """NaN or infinite loss, a loss that exploded on the way, or a training loss that ends well above where
    it started."""
    suggestion = _lower_rate(curves)
    for epoch in curves.epochs:
        for key in ("loss", "val_loss"):
            value = epoch.get(key)
            if value is not None and not _finite(value):
                what = "training" if key == "loss" else "validation"
                return Finding(
                    "diverging",
                    "The loss blew up",
                    int(epoch["epoch"]),
                    f"The {what} loss became {_fmt(value)} at epoch {epoch['epoch']}: the updates are so "
                    "big that the weights stopped making sense.",
                    suggestion,
                )
    if curves.failure and _NOT_FINITE.search(curves.failure):
        epoch = len(curves.epochs) + 1
        last = [v for v in curves.series("loss") if _finite(v)]
        before = f" (the last complete epoch ended at a training loss of {_fmt(last[-1])})" if last else ""
        return Finding(
            "diverging",
            "The loss blew up",
            epoch,
            f"The loss stopped being a number during epoch {epoch}{before}, so training was ended.",
            suggestion,
        )
    if (exploded := _exploded(curves)) is not None:
        return exploded
    ends = _training_ends(curves)
    if ends is None:
        return None
    start, end, span = ends
    if end > start * (1 + DIVERGE_RISE):
        losses = curves.series("loss")
        lowest = losses.index(min(losses)) + 1 if losses else None
        return Finding(
            "diverging",
            "The loss is rising",
            lowest,
            f"Training loss rose from {_fmt(start)} to {_fmt(end)} {span}, {_pct(end / start - 1)} "
            "higher: instead of learning, the network is getting worse.",
            suggestion,
        )
    return None


def flat(curves: Curves) -> Finding | None:
    """Training loss that hardly moves: the steps are too small or the model too weak."""
    ends = _training_ends(curves)
    if ends is None:
        return None
    start, end, span = ends
    if start <= 0 or abs(end - start) / start >= FLAT_CHANGE:
        return None
    epochs = len(curves.epochs)
    return Finding(
        "flat",
        "The loss is flat",
        epochs or None,
        f"Training loss went from {_fmt(start)} to {_fmt(end)} {span}, a change of only "
        f"{_pct((end - start) / start)}: the network is hardly learning.",
        f"Raise the learning rate{_lr_text(curves)} — try ten times higher, or Adam with 0.001 — "
        "or give the model more capacity (more filters, units or layers).",
    )


def _training_steps(curves: Curves) -> int:
    if curves.batches:
        return len(curves.batches)
    return len(curves.epochs) * (curves.batches_per_epoch or 0)


def batch_norm_statistics(curves: Curves) -> Finding | None:
    """BatchNormalization's running averages (what validation and testing normalise with) that had too few
    batches to settle: validation collapses while training, which normalises with each batch's own
    numbers, goes well. It looks like overfitting, but Dropout would not help."""
    momentum, steps = curves.batch_norm_momentum, _training_steps(curves)
    if momentum is None or not curves.epochs or steps <= 0:
        return None
    unsettled = momentum**steps
    if unsettled < BATCH_NORM_UNSETTLED:
        return None
    last = curves.epochs[-1]
    train_acc, val_acc = last.get("accuracy"), last.get("val_accuracy")
    if _finite(train_acc) and _finite(val_acc):
        if train_acc - val_acc < BATCH_NORM_GAP:
            return None
        gap = f"training accuracy is {_pct(train_acc)} but validation accuracy only {_pct(val_acc)}"
    elif _finite(last.get("loss")) and _finite(last.get("val_loss")) and last["loss"] > 0:
        if last["val_loss"] < BATCH_NORM_LOSS_RATIO * last["loss"]:
            return None
        gap = f"the validation loss ({_fmt(last['val_loss'])}) is {last['val_loss'] / last['loss']:.0f} times the training loss"
    else:
        return None
    window = 1 / (1 - momentum) if momentum < 1 else math.inf
    return Finding(
        "batch_norm",
        "BatchNormalization had too few batches to settle",
        int(last["epoch"]),
        f"In epoch {last['epoch']} {gap}. Training normalises each batch with its own mean and spread; "
        f"validation and testing use running averages that, at momentum {momentum:g}, follow about the last "
        f"{window:,.0f} batches — but this run had only {steps:,} batches, so {_pct(unsettled)} of those "
        f"averages is still their starting value. The network is not memorising its {curves.examples}: it is "
        "normalised with the wrong numbers when it is tested.",
        "Train it again here: the app now chooses the momentum from the batches in an epoch (this run was "
        "trained before that, or kept its saved momentum). Or use a smaller batch size (more batches per epoch), "
        "more epochs, or remove the BatchNormalization layers for a data set this small.",
    )


def small_validation(curves: Curves) -> Finding | None:
    """A validation set too small to judge the fit on: its loss moves by chance from epoch to epoch."""
    n = curves.validation_examples
    if n is None or n <= 0 or n >= MIN_VALIDATION_EXAMPLES or len(curves.epochs) < MIN_EPOCHS:
        return None
    return Finding(
        "small_validation",
        "Too few validation examples to judge",
        len(curves.epochs),
        f"The validation set has only {n} {curves.examples}: with so few, its loss and accuracy jump by "
        "chance from epoch to epoch, so they cannot show whether the network overfits.",
        f"Use a larger validation split on Train (at least {MIN_VALIDATION_EXAMPLES} {curves.examples}), or "
        f"more {curves.examples}; and judge the model by its test results, with care when the test set is small too.",
    )


def overfitting(curves: Curves) -> Finding | None:
    """Validation loss rising for some epochs after its minimum while training loss keeps falling."""
    if small_validation(curves) is not None or batch_norm_statistics(curves) is not None:
        return None  # chance on a handful of examples, or running averages that had not settled
    rows = [e for e in curves.epochs if _finite(e.get("val_loss")) and _finite(e.get("loss"))]
    if len(rows) < OVERFIT_EPOCHS + 1:
        return None
    val = [e["val_loss"] for e in rows]
    best = val.index(min(val))
    after = len(rows) - 1 - best
    low, last = rows[best], rows[-1]
    if after < OVERFIT_EPOCHS or last["val_loss"] < low["val_loss"] * (1 + OVERFIT_RISE):
        return None
    if last["loss"] >= low["loss"]:
        return None  # training loss is not falling either: a different problem, not memorising
    epoch = int(low["epoch"])
    if curves.linear:
        dropout = "A linear model has no hidden layer to add Dropout to: use fewer input columns"
    elif curves.has_dropout:
        dropout = "Raise the Dropout rate or add another Dropout layer"
    else:
        dropout = "Add a Dropout layer (rate 0.25) before the Dense layers"
    more_data = (
        f"train on more {curves.examples} (this run used only {curves.limit_train:,})"
        if curves.limit_train
        else f"use more training {curves.examples}"
    )
    return Finding(
        "overfitting",
        "Overfitting",
        epoch,
        f"Validation loss was lowest at epoch {epoch} ({_fmt(low['val_loss'])}) and rose to "
        f"{_fmt(last['val_loss'])} by epoch {last['epoch']}, while training loss kept falling from "
        f"{_fmt(low['loss'])} to {_fmt(last['loss'])}: the network is memorising the training "
        f"{curves.examples} instead of learning what generalises.",
        f"{dropout}, train for about {epoch} epochs (the best point), or {more_data}.",
    )


def chance_level(curves: Curves) -> Finding | None:
    """Accuracy barely better than guessing, when the loss rules do not already say why."""
    measured = curves.near_chance()
    if measured is None or diverging(curves) is not None or flat(curves) is not None:
        return None
    if batch_norm_statistics(curves) is not None:  # that finding says why
        return None
    value, where = measured
    return Finding(
        "chance",
        "No better than guessing",
        len(curves.epochs) or None,
        f"{where} is {_pct(value)}, close to the {_pct(curves.chance)} that guessing among {curves.classes} "
        "classes gets: the network has not learned to tell the classes apart.",
        f"Check the learning rate{_lr_text(curves)}: the Learning-rate finder on Train suggests one. Then train "
        f"for more epochs or on more {curves.examples}.",
    )


RULES: dict[str, Callable[[Curves], Finding | None]] = {
    "diverging": diverging,
    "flat": flat,
    "batch_norm": batch_norm_statistics,
    "small_validation": small_validation,
    "overfitting": overfitting,
    "chance": chance_level,
}


def good_fit(curves: Curves) -> Finding | None:
    """Said only with at least two epochs, when no rule fired and the run did not fail."""
    losses = curves.series("loss")
    if len(losses) < MIN_EPOCHS or curves.failure:
        return None
    n = len(losses)
    train = f"training loss fell from {_fmt(losses[0])} to {_fmt(losses[-1])}"
    val = [(e["epoch"], e["val_loss"]) for e in curves.epochs if _finite(e.get("val_loss"))]
    if len(val) >= MIN_EPOCHS:
        best_epoch, best = min(val, key=lambda item: item[1])
        statement = (
            f"Over {n} epochs {train} and validation loss went from {_fmt(val[0][1])} to "
            f"{_fmt(val[-1][1])}, lowest at epoch {best_epoch} ({_fmt(best)}): no sign of "
            "overfitting, a flat loss or divergence."
        )
        if best_epoch == val[-1][0]:
            suggestion = (
                "Validation loss was still falling at the end: a few more epochs may help. Or change "
                "one thing and compare the runs."
            )
        else:
            suggestion = "Change one thing (a layer, the learning rate, Dropout) and compare the runs."
        return Finding("good", "A healthy fit", int(best_epoch), statement, suggestion)
    return Finding(
        "good",
        "Learning steadily",
        n,
        f"Over {n} epochs {train}; there is no validation set to check for overfitting.",
        f"Set a validation split on Train to see how the network does on {curves.examples} it did not learn from.",
    )


def coach(
    epochs: Sequence[dict],
    batches: Sequence[dict] = (),
    *,
    has_dropout: bool = False,
    learning_rate: float | None = None,
    limit_train: int | None = None,
    failure: str = "",
    examples: str = "images",
    classes: int | None = None,
    test_accuracy: float | None = None,
    optimizer: str | None = None,
    batch_norm_momentum: float | None = None,
    batches_per_epoch: int | None = None,
    validation_examples: int | None = None,
    linear: bool = False,
) -> list[Finding]:
    """Every finding the rules make, or a single good-fit finding, or nothing when it is too early to tell.

    Args:
        classes: a classification's number of classes: the loss and accuracy of guessing come from it.
        test_accuracy: the run's test accuracy, once known (else the last validation accuracy is judged).
        optimizer: the optimizer's key, so the advice can name its usual learning rate.
        batch_norm_momentum: the BatchNormalization layers' momentum (None: the model has none).
        batches_per_epoch: training batches per epoch (for the running averages, when no batches are stored).
        validation_examples: the validation set's size: too small a set is not judged for overfitting.
        linear: the model is one Dense layer (a linear model): Dropout is not advised.
    """
    curves = Curves(
        list(epochs),
        list(batches),
        has_dropout,
        learning_rate,
        limit_train,
        failure,
        examples,
        classes,
        test_accuracy,
        optimizer,
        batch_norm_momentum,
        batches_per_epoch,
        validation_examples,
        linear,
    )
    found = [f for rule in RULES.values() if (f := rule(curves)) is not None]
    if found:
        return found
    good = good_fit(curves)
    return [good] if good else []


def coach_run(run) -> list[Finding]:
    """Findings for a core.runs.record.Run (its own histories, spec and settings)."""
    hp = run.hyperparameters
    layers = run.spec.get("layers", []) if isinstance(run.spec, dict) else []
    return coach(
        run.epoch_history(),
        run.batch_history(),
        has_dropout=any(isinstance(layer, dict) and layer.get("type") == "Dropout" for layer in layers),
        learning_rate=hp.effective_learning_rate,
        limit_train=_examples_used(run),
        failure=run.message if run.status == Status.FAILED else "",
        examples="images" if is_image_spec(run.spec) else "rows",
        classes=_classes(run),
        test_accuracy=None if run.task.is_regression else run.test_accuracy,
        optimizer=hp.optimizer,
        batch_norm_momentum=_batch_norm_momentum(run),
        batches_per_epoch=run.batches_per_epoch or None,
        validation_examples=_validation_examples(run),
        linear=_is_linear(layers),
    )


def _batch_norm_momentum(run) -> float | None:
    """The momentum the run's BatchNormalization layers trained with: kept in its results since the app
    chooses it; Keras' default for a run from before."""
    if not isinstance(run.spec, dict) or not has_batch_norm(run.spec):
        return None
    momentum = (run.results or {}).get("batch_norm_momentum")
    return float(momentum) if isinstance(momentum, (int, float)) else KERAS_BATCH_NORM_MOMENTUM


def _validation_examples(run) -> int | None:
    """The run's validation set size: measured while it trains, else from its training examples and split."""
    live = (getattr(run, "eval_sizes", None) or {}).get("validation")
    if isinstance(live, int) and live > 0:
        return live
    used = (run.results or {}).get("train_examples")
    if isinstance(used, int) and used > 0:
        return int(used * run.hyperparameters.validation_split)
    return None


def _is_linear(layers) -> bool:
    """One Dense layer and nothing that learns besides it: a linear (or logistic) model."""
    kinds = [layer.get("type") for layer in layers if isinstance(layer, dict)]
    return kinds.count("Dense") == 1 and not {"Conv2D", "DepthwiseConv2D", "SeparableConv2D"} & set(kinds)


def _classes(run) -> int | None:
    """A classification run's number of classes: its tested class names, else its output layer's units."""
    if run.task.is_regression:
        return None
    names = (run.results or {}).get("class_names")
    if names:
        return len(names)
    layers = run.spec.get("layers") if isinstance(run.spec, dict) else None
    last = layers[-1] if layers and isinstance(layers[-1], dict) else {}
    units = last.get("units") if last.get("type") == "Dense" else None
    return units if isinstance(units, int) and not isinstance(units, bool) and units >= 2 else None


def _examples_used(run) -> int | None:
    """The training examples the run used, when a limit cut the data set short (else None)."""
    results = run.results or {}
    if "train_examples" in results:
        used, available = results["train_examples"], results.get("train_examples_available", 0)
        return used if used < available else None
    return run.hyperparameters.limit_train  # a run from before the count was kept


# --- augmentation and the train/validation gap ------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """Training and validation accuracy at one epoch: the gap is how much better training looks."""

    train: float
    validation: float
    epoch: int

    @property
    def points(self) -> float:
        return 100 * (self.train - self.validation)

    def text(self) -> str:
        numbers = f"training accuracy {_pct(self.train)} and validation accuracy {_pct(self.validation)}"
        if self.points >= 0:
            return f"{numbers} at epoch {self.epoch}: a gap of {self.points:.1f} points"
        return f"{numbers} at epoch {self.epoch}: validation {-self.points:.1f} points above training"


def last_gap(epochs: Sequence[dict]) -> Gap | None:
    """The gap at the last epoch that has both a training and a validation accuracy."""
    for entry in reversed(list(epochs)):
        if _finite(entry.get("accuracy")) and _finite(entry.get("val_accuracy")):
            return Gap(float(entry["accuracy"]), float(entry["val_accuracy"]), int(entry.get("epoch", 0)))
    return None


def _same_model_without_augmentation(run, others) -> tuple[object, Gap] | None:
    """Among ``others``, a run of this model without its augmentation layers on the same data, with its gap:
    one with the same training settings first (the clone-and-edit flow), else the newest."""
    plain = without_augmentation(run.spec)
    matches = []
    for other in others:
        spec = other.spec if isinstance(other.spec, dict) else {}
        if other.id == run.id or other.dataset != run.dataset or describe_augmentation(spec):
            continue
        if spec.get("input_shape") != plain.get("input_shape") or spec.get("layers") != plain["layers"]:
            continue
        gap = last_gap(other.epoch_history())
        if gap is not None:
            matches.append((other, gap))
    same_settings = [m for m in matches if m[0].hyperparameters == run.hyperparameters]
    return (same_settings or matches or [None])[0]


def augmentation_finding(run, others=()) -> Finding | None:
    """What augmentation did to the gap between training and validation accuracy, with the numbers.

    Compared with a run of the same model without augmentation among ``others`` (the learner's runs) when
    there is one, else the run's own gap with a note that augmentation is on. None when the run has no
    augmentation or no validation accuracy yet.
    """
    if run.task.is_regression or not isinstance(run.spec, dict):
        return None
    words = describe_augmentation(run.spec)
    own = last_gap(run.epoch_history())
    if not words or own is None:
        return None
    harder = "training accuracy is measured on the augmented images, which are harder than the originals"
    found = _same_model_without_augmentation(run, others)
    if found is None:
        return Finding(
            AUGMENTATION,
            "Augmentation is on",
            own.epoch,
            f"This run trained with augmentation ({words}): {own.text()} (the {harder}).",
            "To see what augmentation changes, use Clone and edit, remove the augmentation layers and train "
            "again: this note then compares the two gaps.",
        )
    other, theirs = found
    narrowed = theirs.points - own.points
    statement = (
        f"With augmentation ({words}): {own.text()}. Run {other.id}, the same model without augmentation: "
        f"{theirs.text()}. "
    )
    validation_change = 100 * (own.validation - theirs.validation)
    if narrowed > 0:
        title = "Augmentation narrowed the gap"
        statement += (
            f"Augmentation narrowed the gap by {narrowed:.1f} points (part of that is because the {harder}), and "
            f"validation accuracy {'rose' if validation_change >= 0 else 'fell'} by {abs(validation_change):.1f} "
            "points."
        )
        suggestion = (
            "Keep it: the network relies less on the exact training images."
            if validation_change >= 0
            else "The gap closed but validation accuracy fell: the augmentation may be too strong for this model "
            "or these epochs — try smaller settings, or train longer."
        )
    else:
        title = "Augmentation did not narrow the gap"
        statement += f"The gap is {-narrowed:.1f} points wider with augmentation."
        suggestion = (
            "Augmentation usually needs more epochs to pay off; or try gentler settings, or another kind "
            "(a small shift or rotation)."
        )
    return Finding(AUGMENTATION, title, own.epoch, statement, suggestion)
