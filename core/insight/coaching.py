"""Coaching on the curves: plain-language findings about a run, each backed by the run's own numbers.

Rules are plain functions over the per-epoch history (dicts with loss, accuracy, val_loss,
val_accuracy) and the per-batch history (dicts with step, epoch, loss). Each rule either finds
something — the epoch it refers to, a statement quoting the numbers, what to try — or says nothing.
A "good fit" is only reported when no rule fires and there is enough history to judge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.runs.record import Status

FLAT_CHANGE = 0.02  # training loss changed by less than 2 % over the run: it is not learning
DIVERGE_RISE = 0.10  # training loss ended 10 % above where it started: steps are too big
OVERFIT_RISE = 0.02  # validation loss ended 2 % above its minimum (less is noise)
OVERFIT_EPOCHS = 2  # ... and had at least this many epochs after that minimum to rise
EDGE_BATCHES = 5  # batches averaged at each end of the run (single batches are noisy)
MIN_BATCHES = 2 * EDGE_BATCHES
MIN_EPOCHS = 2
_NOT_FINITE = re.compile(r"\bNaN\b|infinite", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    kind: str  # "overfitting", "flat", "diverging" or "good"
    title: str
    epoch: int | None  # the (1-based) epoch the finding refers to
    statement: str  # what the numbers show
    suggestion: str  # what to try next

    @property
    def is_problem(self) -> bool:
        return self.kind != "good"


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

    def series(self, key: str) -> list[float]:
        return [float(e[key]) for e in self.epochs if e.get(key) is not None]


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "NaN (not a number)" if math.isnan(value) else "infinite"
    return f"{value:.3g}" if 0 < abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.3f}"


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


def diverging(curves: Curves) -> Finding | None:
    """NaN or infinite loss, or a training loss that ends well above where it started."""
    suggestion = (
        f"Lower the learning rate{_lr_text(curves)}, for example to a tenth of it, and train again; "
        "Adam with 0.001 is a safe start."
    )
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


def overfitting(curves: Curves) -> Finding | None:
    """Validation loss rising for some epochs after its minimum while training loss keeps falling."""
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
    if curves.has_dropout:
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


RULES: dict[str, Callable[[Curves], Finding | None]] = {
    "diverging": diverging,
    "flat": flat,
    "overfitting": overfitting,
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
) -> list[Finding]:
    """Every finding the rules make, or a single good-fit finding, or nothing when it is too early to tell."""
    curves = Curves(list(epochs), list(batches), has_dropout, learning_rate, limit_train, failure, examples)
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
        examples="images" if isinstance(run.spec, dict) and len(run.spec.get("input_shape") or ()) == 3 else "rows",
    )


def _examples_used(run) -> int | None:
    """The training examples the run used, when a limit cut the data set short (else None)."""
    results = run.results or {}
    if "train_examples" in results:
        used, available = results["train_examples"], results.get("train_examples_available", 0)
        return used if used < available else None
    return run.hyperparameters.limit_train  # a run from before the count was kept
