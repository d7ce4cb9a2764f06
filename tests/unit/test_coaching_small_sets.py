"""Coaching on small real data sets (issue 25): BatchNormalization averages that had too few batches to settle
are named for what they are (not overfitting, no Dropout advice); a handful of validation rows is not judged
for overfitting; a linear model is not told to add Dropout."""

from core.insight.coaching import MIN_VALIDATION_EXAMPLES, coach, coach_run
from core.model.keras_build import batch_norm_momentum
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

# The digits run of the issue: 1,438 images, batch 256 (6 batches an epoch), validation climbs then collapses.
DIGITS_EPOCHS = [
    {"epoch": 1, "loss": 1.9, "accuracy": 0.40, "val_loss": 2.1, "val_accuracy": 0.42},
    {"epoch": 2, "loss": 0.9, "accuracy": 0.75, "val_loss": 1.2, "val_accuracy": 0.70},
    {"epoch": 3, "loss": 0.45, "accuracy": 0.88, "val_loss": 0.6, "val_accuracy": 0.90},
    {"epoch": 4, "loss": 0.30, "accuracy": 0.92, "val_loss": 1.8, "val_accuracy": 0.55},
    {"epoch": 5, "loss": 0.22, "accuracy": 0.94, "val_loss": 4.5, "val_accuracy": 0.21},
    {"epoch": 6, "loss": 0.18, "accuracy": 0.95, "val_loss": 7.9, "val_accuracy": 0.10},
]


def digits_batches(epochs: int = 6, per_epoch: int = 6) -> list[dict]:
    return [
        {"step": e * per_epoch + b + 1, "epoch": e + 1, "loss": 2.0 - 0.3 * e - 0.01 * b}
        for e in range(epochs)
        for b in range(per_epoch)
    ]


def test_unsettled_batch_norm_averages_are_named_instead_of_overfitting():
    findings = coach(
        DIGITS_EPOCHS,
        digits_batches(),
        has_dropout=True,
        classes=10,
        test_accuracy=0.187,
        batch_norm_momentum=0.99,
        batches_per_epoch=6,
        validation_examples=143,
    )
    kinds = [f.kind for f in findings]
    assert kinds == ["batch_norm"], kinds
    finding = findings[0]
    assert "training accuracy is 95.0 % but validation accuracy only 10.0 %" in finding.statement
    assert "momentum 0.99" in finding.statement and "about the last 100 batches" in finding.statement
    assert "only 36 batches" in finding.statement and "69.6 %" in finding.statement  # 0.99 ** 36
    assert "Dropout" not in finding.suggestion and "batch size" in finding.suggestion


def test_averages_that_had_enough_batches_leave_overfitting_to_its_own_rule():
    findings = coach(
        DIGITS_EPOCHS,
        digits_batches(per_epoch=200),
        has_dropout=True,
        classes=10,
        batch_norm_momentum=0.99,
        batches_per_epoch=200,
        validation_examples=5000,
    )
    assert "batch_norm" not in [f.kind for f in findings] and "overfitting" in [f.kind for f in findings]


def test_the_momentum_the_app_now_chooses_settles_on_the_same_small_set():
    momentum = batch_norm_momentum(6)
    assert momentum < 0.99
    findings = coach(DIGITS_EPOCHS, digits_batches(), classes=10, batch_norm_momentum=momentum, batches_per_epoch=6)
    assert "batch_norm" not in [f.kind for f in findings]


def test_batch_norm_momentum_follows_the_batches_per_epoch():
    assert batch_norm_momentum(None) == 0.99 and batch_norm_momentum(211) == 0.99  # Fashion-MNIST at batch 256
    assert batch_norm_momentum(200) == 0.99
    assert batch_norm_momentum(20) == 0.9
    assert batch_norm_momentum(6) == 0.667
    assert batch_norm_momentum(1) == batch_norm_momentum(4) == 0.5


def test_a_run_trained_before_the_momentum_was_chosen_is_judged_with_keras_default():
    spec = PRESETS["fast"].spec()
    run = Run(spec, "shapes", Hyperparameters(epochs=6, batch_size=256), owner="a" * 32)
    run.begin(6)
    for batch in digits_batches():
        run.record_batch(batch["epoch"] - 1, (batch["step"] - 1) % 6, loss=batch["loss"], accuracy=0.9)
    for epoch in DIGITS_EPOCHS:
        run.record_epoch({**epoch, "seconds": 1.0})
    run.finish(Status.FINISHED, "", {"test_accuracy": 0.187, "test_loss": 7.0, "class_names": list("0123456789")})
    assert [f.kind for f in coach_run(run)] == ["batch_norm"]
    run.results["batch_norm_momentum"] = 0.667  # what the trainer now records
    assert "batch_norm" not in [f.kind for f in coach_run(run)]


# A 32-row table: 25 training rows, 10 % validation = 2 rows; its validation loss jumps by chance.
SMALL_TABLE_EPOCHS = [
    {"epoch": e, "loss": 1.0 / e, "mae": 0.8 / e, "val_loss": v, "val_mae": v}
    for e, v in zip(range(1, 9), [0.9, 0.5, 0.4, 0.6, 0.8, 0.7, 0.9, 1.1])
]


def test_a_handful_of_validation_rows_is_not_judged_for_overfitting():
    findings = coach(SMALL_TABLE_EPOCHS, examples="rows", validation_examples=2)
    kinds = [f.kind for f in findings]
    assert "overfitting" not in kinds and kinds == ["small_validation"]
    assert "only 2 rows" in findings[0].statement
    assert f"at least {MIN_VALIDATION_EXAMPLES} rows" in findings[0].suggestion


def test_enough_validation_rows_are_judged_as_before():
    assert "overfitting" in [f.kind for f in coach(SMALL_TABLE_EPOCHS, examples="rows", validation_examples=400)]


def test_a_linear_model_is_not_told_to_add_dropout():
    findings = coach(SMALL_TABLE_EPOCHS, examples="rows", validation_examples=400, linear=True)
    overfit = next(f for f in findings if f.kind == "overfitting")
    assert "Add a Dropout layer" not in overfit.suggestion
    assert "no hidden layer to add Dropout to" in overfit.suggestion and "fewer input columns" in overfit.suggestion


def test_coach_run_knows_a_linear_model_and_its_validation_size():
    spec = {"input_shape": [5], "layers": [{"type": "Dense", "units": 1, "activation": "linear"}]}
    run = Run(spec, "own-0123456789ab", Hyperparameters(epochs=8, batch_size=32), owner="a" * 32)
    run.begin(1, eval_sizes={"validation": 2, "test": 7})
    for epoch in SMALL_TABLE_EPOCHS:
        run.record_epoch({**epoch, "seconds": 0.1})
    assert [f.kind for f in coach_run(run)] == ["small_validation"]
