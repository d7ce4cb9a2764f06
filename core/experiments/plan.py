"""An experiment's variants: every combination of the factors' values (a grid) or a random sample of N,
each repeated with a few seeds, each checked against the limits before anything trains.

Fair by construction: every variant trains on the same data subset (``limit_train``), is tested on the
same test set (``limit_test``) and, unless repeats are asked for, uses the same seed.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from core.config import DEFAULT_PARAM_BUDGET
from core.experiments.factors import Factor, FactorError, apply_values, format_value, short_label
from core.runs.policy import Check, RunPolicy
from core.training.hyperparams import Hyperparameters

MAX_FACTORS = 3
MAX_RUNS = 60  # runs in one experiment (variants × seeds)
MAX_SEEDS = 3


@dataclass
class Variant:
    index: int  # 1-based, in the order the runs start
    values: dict  # factor key -> value
    seed: int
    spec: dict
    hyperparameters: Hyperparameters
    params: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self, factors: list[Factor]) -> str:
        """'filters 32 · optimizer sgd' (and the seed when repeats differ)."""
        return " · ".join(f"{f.label or f.key} {format_value(self.values[f.key])}" for f in factors)

    def short(self, factors: list[Factor]) -> str:
        """'layer 3 filters 32 · optimizer sgd', for run names."""
        return " · ".join(f"{short_label(f.key)} {format_value(self.values[f.key])}" for f in factors)


@dataclass
class Plan:
    dataset: str
    base_spec: dict
    base_hyperparameters: Hyperparameters
    factors: list[Factor]
    mode: str  # "grid" or "random"
    seeds: tuple[int, ...]
    variants: list[Variant]
    sample: int | None = None

    @property
    def runnable(self) -> list[Variant]:
        return [v for v in self.variants if v.ok]

    @property
    def broken(self) -> list[Variant]:
        return [v for v in self.variants if not v.ok]

    def learning_rates(self) -> str:
        """The learning rates the variants really train with: '0.002', or by optimizer 'adam 0.001, sgd 0.01'."""
        by_optimizer: dict[str, list[float]] = {}
        for variant in self.variants:
            rates = by_optimizer.setdefault(variant.hyperparameters.optimizer, [])
            if variant.hyperparameters.effective_learning_rate not in rates:
                rates.append(variant.hyperparameters.effective_learning_rate)
        every = sorted({rate for rates in by_optimizer.values() for rate in rates})
        if len(by_optimizer) == 1 or len(every) == 1:
            return ", ".join(f"{rate:g}" for rate in every)
        return ", ".join(f"{name} {' / '.join(f'{r:g}' for r in rates)}" for name, rates in by_optimizer.items())


def limits_check(data, param_budget: int = DEFAULT_PARAM_BUDGET, challenge=None) -> Check:
    """The run policy's check (core.runs.policy) on a data set at hand, with no memory or disk limit.

    ``data`` is the data set (anything with input_shape, num_classes, task and name).
    """
    return RunPolicy(param_budget).check(data, challenge=challenge)


def manager_check(manager, dataset: str, challenge=None) -> Check:
    """What the RunManager itself will refuse at start (its policy: every limit it enforces), plus a
    challenge's rules."""
    return manager.policy.check(dataset, challenge=challenge)


def combinations(factors: list[Factor], mode: str = "grid", sample: int | None = None, rng_seed: int = 0) -> list[dict]:
    """Every combination of the factors' values (grid), or ``sample`` of them drawn at random, distinct."""
    grid = [dict(zip([f.key for f in factors], values)) for values in itertools.product(*(f.values for f in factors))]
    if mode == "grid":
        return grid
    if mode != "random":
        raise FactorError(f"Unknown mode {mode!r}: use grid or random.")
    if sample is None or sample < 1:
        raise FactorError("A random sample needs a number of combinations, 1 or more.")
    if sample >= len(grid):
        return grid
    chosen = sorted(random.Random(rng_seed).sample(range(len(grid)), sample))
    return [grid[i] for i in chosen]


def repeat_seeds(base_seed: int, repeats: int) -> tuple[int, ...]:
    if not 1 <= repeats <= MAX_SEEDS:
        raise FactorError(f"Repeat each variant 1 to {MAX_SEEDS} times.")
    return tuple(base_seed + i for i in range(repeats))


def plan_experiment(
    spec: dict,
    hyperparameters: Hyperparameters,
    dataset: str,
    factors: list[Factor],
    *,
    check: Check,
    mode: str = "grid",
    sample: int | None = None,
    repeats: int = 1,
    keep_learning_rate: bool = False,
) -> Plan:
    """Expand the factors into variants (× seeds), each with its parameter count and problems.

    ``keep_learning_rate``: the learner chose the learning rate, so an optimizer factor keeps it (see
    ``Hyperparameters.with_optimizer``).

    Raises FactorError when the experiment itself cannot be set up (no factor, too many, too many runs).
    """
    if not factors:
        raise FactorError("Choose at least one factor to vary.")
    if len(factors) > MAX_FACTORS:
        raise FactorError(f"Vary at most {MAX_FACTORS} factors at once: the results stay readable.")
    keys = [f.key for f in factors]
    if len(set(keys)) != len(keys):
        raise FactorError("Each factor can be chosen once.")
    seeds = repeat_seeds(hyperparameters.seed, repeats)
    combos = combinations(factors, mode, sample, rng_seed=hyperparameters.seed)
    if len(combos) * len(seeds) > MAX_RUNS:
        raise FactorError(
            f"That makes {len(combos) * len(seeds)} runs; one experiment can have at most {MAX_RUNS}. "
            "Use fewer values, fewer repeats or a random sample."
        )
    variants = []
    for values in combos:
        variant_spec, variant_hp = apply_values(spec, hyperparameters, values, keep_learning_rate=keep_learning_rate)
        for seed in seeds:
            hp = Hyperparameters.from_dict({**variant_hp.to_dict(), "seed": seed})
            params, problems = check(variant_spec, hp)
            variants.append(Variant(len(variants) + 1, values, seed, variant_spec, hp, params, problems))
    return Plan(dataset, spec, hyperparameters, list(factors), mode, seeds, variants, sample)
