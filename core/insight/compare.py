"""Comparing runs: curves to overlay, what differs between them, and the leaderboard. Pure functions.

Layers are matched by their Keras name (conv2d, conv2d_1, dropout, ...), the names the model summary
shows, so adding one layer shows up as one new row instead of shifting every layer below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from core.data.datasets import REGRESSION
from core.model.spec import LAYER_TYPES, layer_names
from core.training.hyperparams import Hyperparameters
from core.training.tasks import TASKS

MISSING = "—"
CURVE_METRICS = ("accuracy", "mae", "loss")  # mae: a regression's
SPLITS = {"training": "", "validation": "val_"}  # split -> prefix of its key in the epoch history


@dataclass(frozen=True)
class DiffRow:
    group: str  # "Data", "Training" or "Layers"
    setting: str
    values: tuple[str, ...]  # one per run, in the order the runs were given

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


def format_value(value) -> str:
    """One setting as the table shows it; equal settings always give equal text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):  # a window size: 3 and [3, 3] both read 3×3
        parts = [format_value(v) for v in value]
        return "×".join(parts * 2 if len(parts) == 1 else parts)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _pair_arg(layer_type: str, arg: str) -> bool:
    info = LAYER_TYPES.get(layer_type)
    return info is not None and info.arg(arg) is not None and info.arg(arg).kind == "pair"


def _layer_value(layer: dict, arg: str):
    """The layer's setting, or the default it gets when left out (so "left out" equals "set to default")."""
    info = LAYER_TYPES.get(layer.get("type"))
    value = layer.get(arg, info.defaults().get(arg) if info else None)
    if value is not None and _pair_arg(layer.get("type"), arg) and not isinstance(value, (list, tuple)):
        value = [value, value]
    return value


def _merged_order(sequences: list[list[str]]) -> list[str]:
    """Every name once, each placed after the name that precedes it in the first run that has it."""
    order: list[str] = []
    for names in sequences:
        previous = None
        for name in names:
            if name not in order:
                order.insert(order.index(previous) + 1 if previous is not None else 0, name)
            previous = name
    return order


HYPERPARAMETER_ROWS = {
    "Optimizer": lambda hp: hp.optimizer,
    "Learning rate": lambda hp: hp.effective_learning_rate,
    "Epochs": lambda hp: hp.epochs,
    "Batch size": lambda hp: hp.batch_size,
    "Validation split": lambda hp: hp.validation_split,
    "Seed": lambda hp: hp.seed,
    "Training {examples}": lambda hp: hp.limit_train or "all",
    "Test {examples}": lambda hp: hp.limit_test or "all",
}


def diff_runs(runs) -> list[DiffRow]:
    """Every setting of the runs side by side: data set, each hyperparameter, each layer and its settings."""
    rows = [DiffRow("Data", "Data set", tuple(format_value(r.dataset) for r in runs))]
    hps: list[Hyperparameters] = [r.hyperparameters for r in runs]
    examples = "rows" if runs and all(r.task.is_regression for r in runs) else "images"
    rows += [
        DiffRow("Training", label.format(examples=examples), tuple(format_value(get(hp)) for hp in hps))
        for label, get in HYPERPARAMETER_ROWS.items()
    ]
    if any(r.task.is_regression for r in runs):  # the loss is a choice for these only
        rows.append(
            DiffRow(
                "Training",
                "Loss",
                tuple(r.hyperparameters.loss if r.task.is_regression else "cross-entropy" for r in runs),
            )
        )
    specs = [r.spec if isinstance(r.spec, dict) else {} for r in runs]
    layers = [list(zip(layer_names(s), s.get("layers", []))) for s in specs]
    by_name = [dict(pairs) for pairs in layers]
    rows.append(DiffRow("Layers", "Number of layers", tuple(str(len(pairs)) for pairs in layers)))
    rows.append(
        DiffRow(
            "Layers", "Layer order", tuple(" → ".join(layer.get("type", "?") for _, layer in pairs) for pairs in layers)
        )
    )
    for name in _merged_order([[n for n, _ in pairs] for pairs in layers]):
        present = [named.get(name) for named in by_name]
        kind = next(layer.get("type", "?") for layer in present if layer is not None)
        rows.append(
            DiffRow(
                "Layers", f"{name} ({kind})", tuple("present" if layer is not None else "absent" for layer in present)
            )
        )
        args = list(dict.fromkeys([a.name for a in LAYER_TYPES[kind].args] if kind in LAYER_TYPES else []))
        args += [k for layer in present if layer for k in layer if k != "type" and k not in args]
        for arg in args:
            rows.append(
                DiffRow(
                    "Layers",
                    f"{name} · {arg}",
                    tuple(MISSING if layer is None else format_value(_layer_value(layer, arg)) for layer in present),
                )
            )
    return rows


def overlay_series(runs) -> list[dict]:
    """Per-epoch accuracy and loss of every run, one row per (run, metric, split, epoch) — long format."""
    rows = []
    for run in runs:
        for epoch in run.epoch_history():
            for metric in CURVE_METRICS:
                for split, prefix in SPLITS.items():
                    value = epoch.get(prefix + metric)
                    if value is not None:
                        rows.append(
                            {
                                "run": run.id,
                                "metric": metric,
                                "split": split,
                                "epoch": int(epoch["epoch"]),
                                "value": float(value),
                            }
                        )
    return rows


_REGRESSION = TASKS[REGRESSION]


def _rank(row: dict) -> tuple:
    """Best first: the highest score; for regressions (no score), the lowest test MAE; then runs without a
    result, newest first. Equal results: the smaller model first, then the one that ended first."""
    tie = (row["params"] or 0, row["ended"] or 0, -(row["created"] or 0))
    if row["score"] is not None:
        return 0, -row["score"], *tie
    headline = row[_REGRESSION.headline_key]  # a regression ranks by its task's headline: lower is better
    if headline is not None:
        return 1, -headline if _REGRESSION.higher_is_better else headline, *tie
    return 2, 0, 0, 0, -(row["created"] or 0)


def leaderboard(runs, score=attrgetter("test_accuracy")) -> list[dict]:
    """The one leaderboard (Compare, the class board): one row per run, best first, ranked 1, 2, ...

    ``score(run)`` is what ranks the runs, higher is better: the run's test accuracy unless a class
    leaderboard scores on its hidden test set; a run without one (a regression, or a run without a test result) comes after, as ``_rank``
    says. Each row: rank, run_id, name, learner, architecture, status, score, test_accuracy, test_mae,
    test_loss, params, train_seconds (from the epoch history when the results lack it), epochs,
    target_reached (when its validation accuracy reached the run's target: core.training.target), parent_id,
    created, ended.
    """
    rows = []
    for run in runs:
        results = run.results or {}
        seconds = results.get("train_seconds")
        if seconds is None:
            seconds = sum(e.get("seconds", 0.0) for e in run.epoch_history()) or None
        rows.append(
            {
                "run_id": run.id,
                "name": run.name,
                "learner": run.learner or "anonymous",
                "architecture": describe_architecture(run.spec if isinstance(run.spec, dict) else {}),
                "status": run.status,
                "score": score(run),
                "test_accuracy": results.get("test_accuracy"),
                "test_mae": _REGRESSION.headline_value(results),
                "test_loss": results.get("test_loss"),
                "params": run.params,
                "train_seconds": seconds,
                "epochs": run.epoch,
                "target_reached": results.get("target_reached"),
                "parent_id": run.parent_id or "",
                "created": run.created,
                "ended": run.ended,
            }
        )
    rows.sort(key=_rank)
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def describe_architecture(spec: dict) -> str:
    """A compact one-line description: Conv2D 16 3×3 → MaxPooling2D 2×2 → Flatten → Dense 10."""
    parts = []
    for layer in spec.get("layers", []):
        kind = layer.get("type", "?")
        if kind not in LAYER_TYPES:
            parts.append(str(kind))
            continue
        detail = []
        for key in ("filters", "units"):
            if key in layer:
                detail.append(str(layer[key]))
        for key in ("kernel_size", "pool_size"):
            if key in layer:
                size = layer[key]
                h, w = (size[0], size[1]) if isinstance(size, (list, tuple)) else (size, size)
                detail.append(f"{h}×{w}")
        if "rate" in layer:
            detail.append(f"{layer['rate']:g}")
        parts.append(" ".join([kind, *detail]))
    return " → ".join(parts)


def default_selection(runs, followed_id: str | None) -> list[str]:
    """The followed run and the run it was cloned from, else the two newest runs (runs are newest first)."""
    ids = [r.id for r in runs]
    followed = next((r for r in runs if r.id == followed_id), None)
    if followed is not None and followed.parent_id in ids:
        return [followed.id, followed.parent_id]
    return ids[:2]
