"""Experiments without TensorFlow: factor lists, expansion, limits per variant, analysis, estimates, LR finder."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.experiments.analysis import (
    ACCURACY,
    factor_effects,
    findings,
    is_difference_real,
    pareto_front,
    seed_spread,
)
from core.experiments.engine import Experiment, ExperimentStore, results_table
from core.experiments.estimate import PastRunSpeed as Speed
from core.experiments.estimate import estimate_plan, past_speeds
from core.experiments.factors import (
    FactorError,
    apply_values,
    factor_options,
    log_spaced,
    make_factor,
    parse_factor,
)
from core.experiments.plan import MAX_RUNS, combinations, limits_check, plan_experiment
from core.model.spec import analyze
from core.runs.challenges import Challenge
from core.runs.record import Run
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.lr_finder import lr_schedule, suggest_learning_rate
from core.training.presets import PRESETS

SPEC = PRESETS["model1"].spec()  # conv 16, pool, conv 32, pool, flatten, dense 128, dense 10
HP = Hyperparameters(epochs=2, batch_size=64, seed=7)
FASHION = SimpleNamespace(name="fashion_mnist", input_shape=(28, 28, 1), num_classes=10, task="classification")


def keys(options):
    return [o.key for o in options]


# --- factors ---------------------------------------------------------------------------------------


def test_factor_lists_come_from_the_model_layers_and_training_settings():
    options = {o.key: o for o in factor_options(SPEC, HP)}
    assert options["layer1.filters"].suggested == (8, 16, 32)
    assert options["layer3.filters"].label == "Layer 3 (Conv2D): filters"
    assert options["layer1.kernel_size"].suggested == (3, 5)
    assert options["layer6.units"].suggested == (64, 128, 256)
    assert "layer7.units" not in options  # the output layer is sized by the data set
    assert options["layer6"].choices == ("keep", "remove")  # remove the hidden Dense layer
    assert "layer7" not in options  # never remove the output layer
    assert options["add7"].label == "Add a layer at position 7"
    assert "ConvBlock" in options["add5"].choices and "Dropout" in options["add7"].choices
    assert options["learning_rate"].suggested == (0.0001, 0.001, 0.01)
    assert {"optimizer", "batch_size", "epochs"} <= set(options)


def test_dropout_rate_is_a_factor_where_the_model_has_dropout():
    spec = PRESETS["model2"].spec()
    options = {o.key: o for o in factor_options(spec, HP)}
    assert options["layer2.rate"].suggested == (0.1, 0.25, 0.5)


def test_a_table_model_offers_no_convolution_to_add():
    spec = {"input_shape": [8], "layers": [{"type": "Dense", "units": 16}, {"type": "Dense", "units": 1}]}
    options = {o.key: o for o in factor_options(spec, HP)}
    assert "Conv2D" not in options["add2"].choices and "Dropout" in options["add2"].choices


def test_parse_factor_reads_the_cli_syntax():
    factor = parse_factor("layer3.filters=16,32", SPEC)
    assert factor.key == "layer3.filters" and factor.values == (16, 32)
    assert parse_factor("optimizer=adam, SGD", SPEC).values == ("adam", "sgd")
    assert parse_factor("learning_rate=1e-3,0.01", SPEC).values == (0.001, 0.01)
    assert parse_factor("layer6=keep,remove", SPEC).values == ("keep", "remove")
    assert parse_factor("add7=none,dropout", SPEC).values == ("none", "Dropout")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("layer3.filters", "KEY=VALUE1,VALUE2"),
        ("layer9.filters=16,32", "layers 1 to 7; there is no layer 9"),
        ("layer2.filters=16,32", "MaxPooling2D, which has pool_size, strides, padding; it has no 'filters'"),
        ("layer3.filters=16,abc", "'abc' is not a whole number"),
        ("layer3.filters=16", "at least two values"),
        ("optimizer=adam,adamw", "'adamw' is not one of adam, sgd"),
        ("learning_rate=0.1,-1", "must be above 0"),
        ("depth=1,2", "is not a factor"),
        ("add9=none,Dropout", "position 1 to 8"),
        ("add3=none,Transformer", "'Transformer' is not one of none, Dropout"),
        ("epochs=1,1", "two different values"),
    ],
)
def test_a_bad_factor_gets_a_plain_message(text, says):
    with pytest.raises(FactorError, match=None) as error:
        parse_factor(text, SPEC)
    assert says in str(error.value)


def test_log_spaced_values():
    assert log_spaced(0.0001, 0.1, 4) == [0.0001, 0.001, 0.01, 0.1]
    assert log_spaced(0.001, 0.01, 3) == [0.001, 0.0032, 0.01]


def test_apply_values_changes_sizes_removes_and_adds_layers_by_the_original_numbers():
    values = {"layer3.filters": 64, "layer6": "remove", "add7": "Dropout", "optimizer": "sgd"}
    spec, hp = apply_values(SPEC, HP, values)
    types = [layer["type"] for layer in spec["layers"]]
    assert types == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    assert spec["layers"][2]["filters"] == 64
    assert hp.optimizer == "sgd" and hp.learning_rate is None  # sgd's own default rate
    assert SPEC["layers"][2]["filters"] == 32  # the base spec is untouched


def test_a_third_conv_block_keeps_the_model_valid():
    spec, _ = apply_values(SPEC, HP, {"add5": "ConvBlock"})
    assert [layer["type"] for layer in spec["layers"][4:6]] == ["Conv2D", "MaxPooling2D"]
    assert spec["layers"][4]["filters"] == 64  # twice the last convolution's
    assert analyze(spec, (28, 28, 1), 10).ok


# --- expansion and limits --------------------------------------------------------------------------


def test_grid_is_every_combination_and_random_a_distinct_sample():
    factors = [make_factor("layer3.filters", [16, 32, 64], SPEC), make_factor("optimizer", ["adam", "sgd"], SPEC)]
    grid = combinations(factors)
    assert len(grid) == 6 and {"layer3.filters": 64, "optimizer": "sgd"} in grid
    sample = combinations(factors, "random", 4, rng_seed=1)
    assert len(sample) == 4 and all(c in grid for c in sample)
    assert len({tuple(c.values()) for c in sample}) == 4
    assert combinations(factors, "random", 4, rng_seed=1) == sample  # reproducible
    assert len(combinations(factors, "random", 50)) == 6


def test_plan_repeats_each_variant_with_consecutive_seeds_on_the_same_data():
    hp = Hyperparameters(epochs=1, seed=7, limit_train=3000, limit_test=1000)
    factors = [make_factor("optimizer", ["adam", "sgd"], SPEC)]
    plan = plan_experiment(SPEC, hp, "fashion_mnist", factors, check=limits_check(FASHION), repeats=3)
    assert [(v.values["optimizer"], v.seed) for v in plan.variants] == [
        ("adam", 7),
        ("adam", 8),
        ("adam", 9),
        ("sgd", 7),
        ("sgd", 8),
        ("sgd", 9),
    ]
    assert {(v.hyperparameters.limit_train, v.hyperparameters.limit_test) for v in plan.variants} == {(3000, 1000)}
    assert all(v.params == 108_618 for v in plan.variants)


def test_variants_that_break_the_parameter_budget_are_listed_with_the_reason():
    factors = [make_factor("layer6.units", [64, 2048], SPEC)]
    plan = plan_experiment(SPEC, HP, "fashion_mnist", factors, check=limits_check(FASHION, param_budget=500_000))
    assert [v.values["layer6.units"] for v in plan.runnable] == [64]
    (broken,) = plan.broken
    assert broken.params > 500_000
    assert "more than the limit of 500,000" in broken.problems[0]


def test_variants_that_break_a_challenge_rule_are_listed_with_the_rule():
    challenge = Challenge(
        "abcd1234",
        "Small nets",
        "fashion_mnist",
        "model1",
        60_000,
        3,
        Hyperparameters(optimizer="adam"),
        ("optimizer",),
    )
    factors = [make_factor("layer3.filters", [16, 32], SPEC), make_factor("optimizer", ["adam", "sgd"], SPEC)]
    plan = plan_experiment(SPEC, HP, "fashion_mnist", factors, check=limits_check(FASHION, challenge=challenge))
    assert [v.values for v in plan.runnable] == [{"layer3.filters": 16, "optimizer": "adam"}]
    reasons = {v.describe(plan.factors): " ".join(v.problems) for v in plan.broken}
    assert "allows at most 60,000" in reasons["Layer 3 (Conv2D): filters 32 · Optimizer adam"]
    assert "optimizer is set by your teacher" in reasons["Layer 3 (Conv2D): filters 16 · Optimizer sgd"]


def test_an_invalid_structure_is_a_broken_variant_not_a_crash():
    factors = [make_factor("layer5", ["keep", "remove"], SPEC)]  # no Flatten before Dense
    plan = plan_experiment(SPEC, HP, "fashion_mnist", factors, check=limits_check(FASHION))
    assert len(plan.runnable) == 1
    assert "add Flatten or GlobalAveragePooling2D before Dense" in plan.broken[0].problems[0]


def test_too_many_factors_or_runs_are_refused_before_anything_starts():
    many = [make_factor(f"layer{n}", ["keep", "remove"], SPEC) for n in (1, 2, 3, 4)]
    with pytest.raises(FactorError, match="at most 3 factors"):
        plan_experiment(SPEC, HP, "fashion_mnist", many, check=limits_check(FASHION))
    big = [
        make_factor("layer1.filters", list(range(1, 9)), SPEC),
        make_factor("layer3.filters", list(range(1, 9)), SPEC),
    ]
    with pytest.raises(FactorError, match=f"64 runs; one experiment can have at most {MAX_RUNS}"):
        plan_experiment(SPEC, HP, "fashion_mnist", big, check=limits_check(FASHION))
    with pytest.raises(FactorError, match="at least one factor"):
        plan_experiment(SPEC, HP, "fashion_mnist", [], check=limits_check(FASHION))


# --- results and analysis --------------------------------------------------------------------------


def synthetic_table(noise: float = 0.0005, seeds=(1, 2, 3)) -> pd.DataFrame:
    """Filters matter (+2 points from 16 to 32, +0.08 from 32 to 64); the optimizer does not."""
    rng = np.random.default_rng(0)
    base = {"16": 0.87, "32": 0.89, "64": 0.8908}
    params = {"16": 55_098, "32": 108_618, "64": 215_658}
    rows = []
    for filters in ("16", "32", "64"):
        for optimizer in ("adam", "sgd"):
            for seed in seeds:
                rows.append(
                    {
                        "layer3.filters": filters,
                        "optimizer": optimizer,
                        "seed": seed,
                        "params": params[filters],
                        "test_accuracy": base[filters] + rng.normal(0, noise),
                        "train_seconds": params[filters] / 10_000,
                        "run_id": f"{filters}-{optimizer}-{seed}",
                    }
                )
    return pd.DataFrame(rows)


FACTORS = [make_factor("layer3.filters", [16, 32, 64], SPEC), make_factor("optimizer", ["adam", "sgd"], SPEC)]


def test_pareto_front_keeps_the_points_nothing_beats():
    table = pd.DataFrame(
        {"params": [100, 200, 300, 150], "test_accuracy": [0.80, 0.85, 0.84, 0.79], "train_seconds": [1, 2, 3, 4]}
    )
    assert pareto_front(table, "params").tolist() == [True, True, False, False]
    assert pareto_front(table, "train_seconds").tolist() == [True, True, False, False]
    mae = pd.DataFrame({"params": [1, 2, 3], "test_mae": [5.0, 4.0, 4.5], "train_seconds": [1, 1, 1]})
    assert pareto_front(mae, "params").tolist() == [True, True, False]  # lower MAE is better


def test_effects_rank_factors_with_their_seed_spread():
    table = synthetic_table()
    effects = factor_effects(table, FACTORS)
    assert [e.factor.key for e in effects] == ["layer3.filters", "optimizer"]
    filters = effects[0]
    assert [lv.value for lv in filters.levels] == ["16", "32", "64"]
    assert filters.size == pytest.approx(0.0208, abs=0.001)
    assert filters.best(ACCURACY).value in ("32", "64") and filters.worst(ACCURACY).value == "16"
    assert effects[1].size < 0.001
    assert seed_spread(table, ["layer3.filters", "optimizer"]) == pytest.approx(0.0005, abs=0.0003)
    assert seed_spread(synthetic_table(seeds=(1,)), ["layer3.filters", "optimizer"]) is None


def test_is_it_real_rule():
    real = is_difference_real(0.02, 0.003)
    assert (
        real.real is True
        and "The difference, 2.0 points, is more than twice the seed spread (0.30 points): real." in real.text
    )
    noise = is_difference_real(0.004, 0.003)
    assert noise.real is False and "could be noise" in noise.text
    one_seed_small = is_difference_real(0.003, None)
    assert one_seed_small.real is None and "may be noise" in one_seed_small.text
    one_seed_large = is_difference_real(0.03, None)
    assert one_seed_large.real is None and "repeat with 2–3 seeds" in one_seed_large.text


def test_findings_are_sentences_backed_by_numbers():
    sentences = findings(synthetic_table(), FACTORS)
    text = "\n".join(sentences)
    assert sentences[0].startswith("Best: Layer 3 (Conv2D): filters 64, Optimizer ")
    assert "test accuracy 89.1 % with 215,658 parameters." in sentences[0]
    assert "Layer 3 (Conv2D): filters mattered most: 16 → " in text
    assert "from 87.0 % to 89." in text and "real." in text
    assert "Optimizer made little difference" in text
    assert "Layer 3 (Conv2D): filters stopped helping at 32: going to 64 changed the mean test accuracy by +0.0" in text
    assert "Best for its size: Layer 3 (Conv2D): filters 32" in text and "108,618 parameters" in text


def test_findings_wait_for_results():
    table = synthetic_table().assign(test_accuracy=None)
    assert findings(table, FACTORS) == []


def test_results_table_has_one_row_per_variant_and_the_rejected_ones():
    factors = [make_factor("optimizer", ["adam", "sgd"], SPEC)]
    experiment = Experiment(
        "x1",
        "me",
        "Vary optimizer",
        "fashion_mnist",
        SPEC,
        HP,
        factors,
        "grid",
        (7,),
        [
            {"index": 1, "values": {"optimizer": "adam"}, "seed": 7, "params": 10, "problems": [], "run_id": "r1"},
            {
                "index": 2,
                "values": {"optimizer": "sgd"},
                "seed": 7,
                "params": 10,
                "problems": ["Too big."],
                "run_id": None,
            },
        ],
    )
    run = Run(SPEC, "fashion_mnist", HP, run_id="r1", params=10)
    run.finish("finished", results={"test_accuracy": 0.9, "test_loss": 0.3, "train_seconds": 4.0})
    table = results_table(experiment, {"r1": run})
    table = table.astype(object).where(table.notna(), None)  # missing values as None, to compare
    assert table.to_dict("records") == [
        {
            "variant": 1,
            "optimizer": "adam",
            "seed": 7,
            "status": "finished",
            "params": 10,
            "test_accuracy": 0.9,
            "test_loss": 0.3,
            "train_seconds": 4.0,
            "run_id": "r1",
            "problem": "",
        },
        {
            "variant": 2,
            "optimizer": "sgd",
            "seed": 7,
            "status": "rejected",
            "params": 10,
            "test_accuracy": None,
            "test_loss": None,
            "train_seconds": None,
            "run_id": None,
            "problem": "Too big.",
        },
    ]


def test_experiment_is_saved_and_reopened_only_by_its_owner(tmp_path):
    store = ExperimentStore(RunStore(tmp_path))
    factors = [make_factor("layer1.kernel_size", [3, 5], SPEC)]
    variants = [
        {"index": 1, "values": {"layer1.kernel_size": 5}, "seed": 7, "params": 1, "problems": [], "run_id": "r"}
    ]
    saved = store.save(Experiment("x2", "me", "k", "shapes", SPEC, HP, factors, "grid", (7,), variants, challenge="c1"))
    again = store.get("x2", owner="me")
    assert again == saved and again.factors[0].label == "Layer 1 (Conv2D): kernel size"
    assert store.get("x2", owner="someone else") is None
    assert [e.id for e in store.list("me")] == ["x2"] and store.list("other") == []
    assert [e.id for e in store.list_for_challenge("c1")] == ["x2"]


# --- time estimate ---------------------------------------------------------------------------------


def finished_run(params: int, seconds: float, epochs: int = 2, limit: int | None = 10_000) -> Run:
    run = Run(SPEC, "fashion_mnist", Hyperparameters(epochs=epochs, limit_train=limit), params=params)
    for e in range(epochs):
        run.record_epoch({"epoch": e + 1})
    run.finish("finished", results={"train_seconds": seconds})
    return run


def test_estimate_from_the_speed_of_past_runs():
    sizes = {"fashion_mnist": 60_000}.get
    speeds = past_speeds([finished_run(100_000, 18.0), finished_run(100_000, 9.0, epochs=1)], sizes)
    # 10,000 images less the 10 % validation share: 9,000 per epoch, 1 ms each.
    assert [s.seconds_per_example for s in speeds] == pytest.approx([0.001, 0.001])
    plan = plan_experiment(
        SPEC,
        Hyperparameters(epochs=3, limit_train=20_000),
        "fashion_mnist",
        [make_factor("optimizer", ["adam", "sgd"], SPEC)],
        check=limits_check(FASHION),
    )
    estimate = estimate_plan(plan.runnable, 60_000, speeds, slots=2)
    assert estimate.per_variant == pytest.approx([54.0, 54.0])  # 18,000 examples × 3 epochs × 1 ms
    assert estimate.total_seconds == pytest.approx(108.0) and estimate.wall_seconds == pytest.approx(54.0)
    assert estimate.text() == "about 54 s (from the speed of 2 past runs on this server, 2 training at once)"
    assert estimate_plan(plan.runnable, 60_000, [], slots=1) is None


def test_estimate_follows_the_trend_in_model_size():
    speeds = [Speed(10_000, 0.0001), Speed(100_000, 0.001), Speed(1_000_000, 0.01)]
    small = SimpleNamespace(params=10_000, hyperparameters=Hyperparameters(epochs=1, limit_train=1000))
    large = SimpleNamespace(params=1_000_000, hyperparameters=Hyperparameters(epochs=1, limit_train=1000))
    estimate = estimate_plan([small, large], 60_000, speeds)
    assert estimate.per_variant == pytest.approx([0.09, 9.0])


# --- learning-rate finder --------------------------------------------------------------------------


def synthetic_loss(lrs: np.ndarray) -> np.ndarray:
    """Flat at 2.3, falling steepest around 1e-3, lowest near 1e-2, exploding above 3e-2."""
    x = np.log10(lrs)
    fall = 2.3 - 1.8 / (1 + np.exp(-(x + 3) * 3))
    blow = np.where(x > -1.7, np.exp((x + 1.7) * 8) - 1, 0)
    return fall + blow


def test_lr_finder_suggests_where_the_loss_falls_fastest():
    lrs = lr_schedule(200, 1e-5, 1.0)
    assert lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    finding = suggest_learning_rate(lrs, synthetic_loss(lrs) + rng.normal(0, 0.01, len(lrs)))
    assert 3e-4 <= finding.suggestion <= 3e-3
    assert 3e-3 <= finding.lowest <= 3e-2
    assert finding.reason.startswith(f"The loss fell fastest at a learning rate of {finding.suggestion:g}")
    assert "shot up after" in finding.reason


def test_lr_finder_says_so_when_the_loss_never_falls():
    lrs = lr_schedule(100)
    finding = suggest_learning_rate(lrs, np.full(100, 2.3) + np.linspace(0, 0.01, 100))
    assert finding.suggestion is None and "hardly fell" in finding.reason
    nan = suggest_learning_rate(lrs[:5], [np.nan] * 5)
    assert nan.suggestion is None and "Too few batches" in nan.reason


def test_estimate_adds_the_rest_of_a_run_beyond_its_epochs():
    run = finished_run(100_000, 18.0)  # 18 s of epochs
    run.started, run.ended = 1000.0, 1000.0 + 18.0 + 4.0  # and 4 s to build, test and save
    (speed,) = past_speeds([run], {"fashion_mnist": 60_000}.get)
    assert speed.overhead == pytest.approx(4.0)
    variant = SimpleNamespace(params=100_000, hyperparameters=Hyperparameters(epochs=1, limit_train=10_000))
    assert estimate_plan([variant], 60_000, [speed]).per_variant == pytest.approx([9.0 + 4.0])
