"""What an experiment's results say: Pareto fronts, the effect of each factor with its seed spread, whether a
difference is larger than the seed-to-seed noise, and a few plain sentences, each backed by its numbers.

Works on the results table (core.experiments.engine.results_table): one row per run, factor values as
text, ``seed``, ``params``, ``train_seconds`` and the metric (``test_accuracy``, or a regression's
``test_mae``, lower is better). Pure pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from core.data.datasets import CLASSIFICATION, REGRESSION
from core.experiments.factors import Factor, format_value
from core.training.tasks import TASKS, Task, task_of_columns

REAL_FACTOR = 2.0  # a difference counts as real when larger than this many seed spreads
# With one seed per variant, a difference smaller than this (accuracy: 1 point) may be noise: seeds alone
# move a small CNN's test accuracy by a few tenths of a point.
SINGLE_SEED_NOISE = {CLASSIFICATION: 0.01, REGRESSION: None}


@dataclass(frozen=True)
class Metric:
    """The result an analysis ranks by: its task's headline (core.training.tasks.Task), with how an
    analysis writes it and its differences."""

    task: Task

    @property
    def column(self) -> str:
        return self.task.headline_key

    @property
    def title(self) -> str:
        return self.task.headline_title

    @property
    def higher_is_better(self) -> bool:
        return self.task.higher_is_better

    @property
    def noise(self) -> float | None:
        return SINGLE_SEED_NOISE[self.task.name]

    def fmt(self, value: float) -> str:
        if self.task.is_regression:
            return f"{value:.4g}"
        return f"{100 * value:.1f} %"

    def fmt_diff(self, value: float) -> str:
        if self.task.is_regression:
            return f"{abs(value):.3g}"
        return f"{100 * abs(value):.{2 if abs(value) < 0.01 else 1}f} points"

    def better(self, a: float, b: float) -> bool:
        return self.task.better(a, b)


ACCURACY = Metric(TASKS[CLASSIFICATION])
MAE = Metric(TASKS[REGRESSION])
_METRICS = {metric.task.name: metric for metric in (ACCURACY, MAE)}


def metric_of(table: pd.DataFrame) -> Metric:
    """The metric of the task whose results the table holds."""
    return _METRICS[task_of_columns(table.columns).name]


def finished(table: pd.DataFrame) -> pd.DataFrame:
    """The rows with a test result (finished runs, and stopped ones evaluated at that moment)."""
    metric = metric_of(table)
    if metric.column not in table:
        return table.iloc[0:0]
    return table[table[metric.column].notna()].copy()


def pareto_front(table: pd.DataFrame, cost: str, metric: Metric | None = None) -> pd.Series:
    """True for each row no other row beats: at most its cost (params, train_seconds) and at least as good,
    better in one of the two."""
    metric = metric or metric_of(table)
    sign = 1 if metric.higher_is_better else -1
    costs = table[cost].to_numpy(dtype=float)
    scores = sign * table[metric.column].to_numpy(dtype=float)
    front = []
    for i in range(len(table)):
        dominated = any(
            costs[j] <= costs[i] and scores[j] >= scores[i] and (costs[j] < costs[i] or scores[j] > scores[i])
            for j in range(len(table))
            if j != i
        )
        front.append(not dominated)
    return pd.Series(front, index=table.index)


def variant_means(table: pd.DataFrame, keys: list[str], metric: Metric | None = None) -> pd.DataFrame:
    """One row per combination of factor values: mean and seed spread (standard deviation) of the metric,
    runs, mean params and training time."""
    metric = metric or metric_of(table)
    grouped = table.groupby(keys, sort=False, dropna=False)
    frame = grouped.agg(
        mean=(metric.column, "mean"),
        spread=(metric.column, "std"),
        runs=(metric.column, "count"),
        params=("params", "mean"),
        train_seconds=("train_seconds", "mean"),
    ).reset_index()
    return frame


def seed_spread(table: pd.DataFrame, keys: list[str], metric: Metric | None = None) -> float | None:
    """The typical seed-to-seed standard deviation within a variant (root of the mean variance); None
    without repeats."""
    metric = metric or metric_of(table)
    variances = table.groupby(keys, sort=False)[metric.column].var().dropna()
    if variances.empty:
        return None
    return math.sqrt(float(variances.mean()))


@dataclass(frozen=True)
class Level:
    value: str
    mean: float
    spread: float | None  # standard deviation over the runs with this value (other factors and seeds mixed)
    runs: int


@dataclass(frozen=True)
class Effect:
    factor: Factor
    levels: list[Level]  # in the factor's own order

    @property
    def size(self) -> float:
        means = [level.mean for level in self.levels]
        return max(means) - min(means)

    def best(self, metric: Metric) -> Level:
        return (max if metric.higher_is_better else min)(self.levels, key=lambda level: level.mean)

    def worst(self, metric: Metric) -> Level:
        return (min if metric.higher_is_better else max)(self.levels, key=lambda level: level.mean)


def factor_effects(table: pd.DataFrame, factors: list[Factor], metric: Metric | None = None) -> list[Effect]:
    """Each factor's mean metric per value (averaged over the other factors and seeds), largest effect first."""
    metric = metric or metric_of(table)
    effects = []
    for factor in factors:
        levels = []
        for value in (format_value(v) for v in factor.values):
            rows = table[table[factor.key] == value][metric.column].dropna()
            if len(rows):
                spread = float(rows.std()) if len(rows) > 1 else None
                levels.append(Level(value, float(rows.mean()), spread, int(len(rows))))
        if len(levels) >= 2:
            effects.append(Effect(factor, levels))
    return sorted(effects, key=lambda e: -e.size)


@dataclass(frozen=True)
class Verdict:
    real: bool | None  # None: cannot tell (one seed per variant)
    text: str


def is_difference_real(difference: float, spread: float | None, metric: Metric = ACCURACY) -> Verdict:
    """The rule: with repeats, a difference is real when larger than twice the seed spread; with one seed,
    a difference under the usual seed noise (1 accuracy point) may be noise, and larger ones are likely
    but unconfirmed."""
    size = f"The difference, {metric.fmt_diff(difference)},"
    if spread is not None and spread > 0:
        threshold = REAL_FACTOR * spread
        if abs(difference) > threshold:
            return Verdict(True, f"{size} is more than twice the seed spread ({metric.fmt_diff(spread)}): real.")
        return Verdict(False, f"{size} is within twice the seed spread ({metric.fmt_diff(spread)}): it could be noise.")
    if spread == 0:
        return Verdict(abs(difference) > 0, f"{size}; the repeats gave identical results.")
    noise = metric.noise
    if noise is not None and abs(difference) < noise:
        return Verdict(
            None,
            f"{size} is less than the {metric.fmt_diff(noise)} seeds alone often cause: it may be noise "
            "(repeat with 2–3 seeds to know).",
        )
    return Verdict(None, f"{size} comes from one seed per variant: repeat with 2–3 seeds to be sure it is real.")


def _numeric(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def findings(table: pd.DataFrame, factors: list[Factor]) -> list[str]:
    """A few plain sentences on what mattered, each with its numbers (empty until runs have finished)."""
    done = finished(table)
    if done.empty:
        return []
    metric = metric_of(done)
    keys = [f.key for f in factors]
    spread = seed_spread(done, keys, metric)
    sentences = []
    means = variant_means(done, keys, metric).sort_values("mean", ascending=not metric.higher_is_better)
    best = means.iloc[0]
    describe = lambda row: ", ".join(f"{f.label or f.key} {row[f.key]}" for f in factors)  # noqa: E731
    sentences.append(
        f"Best: {describe(best)} — {metric.title.lower()} {metric.fmt(best['mean'])} "
        f"with {int(best['params']):,} parameters."
    )
    if len(means) > 1:
        second = means.iloc[1]
        verdict = is_difference_real(best["mean"] - second["mean"], spread, metric)
        sentences.append(f"The runner-up: {describe(second)}, {metric.fmt(second['mean'])}. {verdict.text}")
    effects = factor_effects(done, factors, metric)
    if effects:
        top = effects[0]
        hi, lo = top.best(metric), top.worst(metric)
        verdict = is_difference_real(hi.mean - lo.mean, spread, metric)
        sentences.append(
            f"{top.factor.label or top.factor.key} mattered most: {lo.value} → {hi.value} moved the mean "
            f"{metric.title.lower()} from {metric.fmt(lo.mean)} to {metric.fmt(hi.mean)}. {verdict.text}"
        )
        for other in effects[1:]:
            verdict = is_difference_real(other.size, spread, metric)
            if verdict.real is False or (verdict.real is None and other.size < (metric.noise or 0)):
                sentences.append(
                    f"{other.factor.label or other.factor.key} made little difference: its values' means differ "
                    f"by {metric.fmt_diff(other.size)}."
                )
    if done["params"].nunique() > 1:
        near = means[
            (means["mean"] - best["mean"]).abs() <= (abs(best["mean"]) * 0.02 if metric.task.is_regression else 0.005)
        ]
        smallest = near.sort_values("params").iloc[0]
        if int(smallest["params"]) < int(best["params"]):
            sentences.append(
                f"Best for its size: {describe(smallest)} reaches {metric.fmt(smallest['mean'])} with "
                f"{int(smallest['params']):,} parameters, {best['params'] / smallest['params']:.1f}× fewer than the best "
                f"for {metric.fmt_diff(best['mean'] - smallest['mean'])} less."
            )
    sentences += _stopped_helping(effects, spread, metric)
    return sentences


def _stopped_helping(effects: list[Effect], spread: float | None, metric: Metric) -> list[str]:
    """Where more epochs or more width (filters, units) stopped improving the result: the first step up
    whose gain is within the noise (twice the seed spread; with one seed, half a point of accuracy)."""
    threshold = REAL_FACTOR * spread if spread else (metric.noise or 0) / 2
    sign = 1 if metric.higher_is_better else -1
    sentences = []
    for effect in effects:
        key = effect.factor.key
        if not (key == "epochs" or key.endswith((".filters", ".units"))):
            continue
        levels = sorted(
            (lv for lv in effect.levels if _numeric(lv.value) is not None), key=lambda lv: _numeric(lv.value)
        )
        for before, after in zip(levels, levels[1:]):
            gain = sign * (after.mean - before.mean)
            if gain <= threshold:
                what = "More epochs" if key == "epochs" else (effect.factor.label or key)
                sentences.append(
                    f"{what} stopped helping at {before.value}: going to {after.value} changed the mean "
                    f"{metric.title.lower()} by {'+' if gain >= 0 else '−'}{metric.fmt_diff(gain)}."
                )
                break
    return sentences
