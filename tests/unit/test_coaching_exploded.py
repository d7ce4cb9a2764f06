"""Coaching on a loss that exploded and came back down, and on accuracy near guessing: never "healthy".

The histories copy a real run: model 1 on Fashion-MNIST with SGD at learning rate 10. Its batch loss (Keras'
running mean over the epoch) went from 2.28 to 54,294 in the third batch, fell back as the mean to ~2,900,
and epoch 2 sat at 2.48, a finite, calm-looking number, at chance-level accuracy.
"""

from core.insight.coaching import coach, coach_run
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

EXPLODED_BATCHES = [2.30, 33.7, 54294.0, 40759.0, 32608.0, 20381.0, 10192.0, 5437.0, 4078.0, 2900.0]
CALM_AFTER = [2.46, 2.49, 2.54, 2.53, 2.49, 2.48, 2.47, 2.47, 2.46, 2.48]


def batches(losses, per_epoch=10):
    return [{"step": n + 1, "epoch": n // per_epoch + 1, "loss": v, "accuracy": 0.1} for n, v in enumerate(losses)]


def epochs(loss, val_loss, val_accuracy, accuracy=None):
    return [
        {
            "epoch": n + 1,
            "loss": value,
            "accuracy": (accuracy or val_accuracy)[n],
            "val_loss": val_loss[n],
            "val_accuracy": val_accuracy[n],
            "seconds": 1.0,
        }
        for n, value in enumerate(loss)
    ]


EXPLODED_EPOCHS = epochs([2900.9, 2.48], [2.672, 2.672], [0.19, 0.19])


def all_text(findings) -> str:
    return " ".join(f"{f.title} {f.statement} {f.suggestion}" for f in findings)


def test_an_exploded_loss_that_ends_finite_is_named_with_its_numbers():
    findings = coach(
        EXPLODED_EPOCHS,
        batches(EXPLODED_BATCHES + CALM_AFTER),
        learning_rate=10.0,
        optimizer="sgd",
        classes=10,
        test_accuracy=0.19,
    )
    assert [f.kind for f in findings] == ["diverging"]
    [finding] = findings
    assert finding.title == "The loss exploded" and finding.epoch == 1
    assert "from 2.300 at the start to 54,294 in batch 3 (epoch 1)" in finding.statement
    assert "23,606 times as high" in finding.statement
    assert "guessing among 10 classes scores a loss of 2.303" in finding.statement
    assert "it ended at 2.480" in finding.statement
    assert "Test accuracy is 19.0 %, about what guessing gets (10.0 %)" in finding.statement
    assert "Lower the learning rate (now 10)" in finding.suggestion
    assert "try 0.01 for SGD" in finding.suggestion and "Learning-rate finder" in finding.suggestion
    assert "healthy" not in all_text(findings).lower()


def test_an_exploded_run_is_never_called_healthy():
    spec = PRESETS["model1"].spec(num_classes=10)
    run = Run(spec, "fashion_mnist", Hyperparameters(optimizer="sgd", learning_rate=10.0, epochs=2))
    run.begin(10)
    for n, loss in enumerate(EXPLODED_BATCHES + CALM_AFTER):
        run.record_batch(n // 10, n % 10, loss=loss, accuracy=0.1)
        if n % 10 == 9:
            run.record_epoch(EXPLODED_EPOCHS[n // 10])
    run.finish(Status.FINISHED, "", {"test_accuracy": 0.092, "class_names": [str(c) for c in range(10)]})
    findings = coach_run(run)
    assert [f.title for f in findings] == ["The loss exploded"]
    assert "Test accuracy is 9.2 %" in findings[0].statement and "try 0.01 for SGD" in findings[0].suggestion
    assert "healthy" not in all_text(findings).lower()


def test_without_batches_an_epoch_loss_far_above_guessing_is_an_explosion():
    [finding] = coach(EXPLODED_EPOCHS, classes=10, optimizer="adam", learning_rate=0.5)
    assert finding.title == "The loss exploded" and finding.epoch == 1
    assert "shot up to 2,901 in epoch 1" in finding.statement and "scores a loss of 2.303" in finding.statement
    assert "try 0.001 for Adam" in finding.suggestion


def test_a_regression_loss_far_above_its_start_is_an_explosion():
    losses = [1.0, 0.9, 40.0, 310.0, 120.0, 60.0, 30.0, 1.2, 0.95, 0.9, 0.8, 0.7, 0.7, 0.6, 0.6]
    rows = [{"epoch": 1, "loss": 55.0, "mae": 3.0, "seconds": 1.0}, {"epoch": 2, "loss": 0.7, "mae": 0.6}]
    [finding] = coach(rows, batches(losses, per_epoch=8), examples="rows")
    assert finding.title == "The loss exploded"
    assert "from 1.000 at the start to 310.000 in batch 4 (epoch 1), 310 times as high" in finding.statement
    assert "guessing" not in finding.statement and "it ended at 0.600" in finding.statement


def test_a_calm_run_at_chance_level_is_named_not_healthy():
    # The loss falls a little and is not flat, but validation accuracy is where guessing among 10 classes is.
    rows = epochs([2.45, 2.33, 2.29], [2.40, 2.31, 2.30], [0.10, 0.11, 0.105])
    findings = coach(rows, batches([2.60 - 0.012 * n for n in range(30)]), classes=10, learning_rate=1e-4)
    assert [f.kind for f in findings] == ["chance"]
    [finding] = findings
    assert finding.title == "No better than guessing" and finding.is_problem
    assert "Validation accuracy in epoch 3 is 10.5 %" in finding.statement
    assert "the 10.0 % that guessing among 10 classes gets" in finding.statement
    assert "Check the learning rate (now 0.0001)" in finding.suggestion
    assert "healthy" not in all_text(findings).lower()


def test_the_test_accuracy_is_judged_once_there_is_one():
    rows = epochs([1.2, 0.9, 0.7], [1.1, 0.9, 0.8], [0.6, 0.7, 0.75])
    [finding] = coach(rows, classes=5, test_accuracy=0.22)
    assert finding.kind == "chance" and "Test accuracy is 22.0 %, close to the 20.0 %" in finding.statement


def test_one_epoch_near_guessing_is_too_early_to_judge_until_the_test_set():
    rows = epochs([2.2], [2.1], [0.12])
    assert coach(rows, classes=10) == []
    assert [f.kind for f in coach(rows, classes=10, test_accuracy=0.12)] == ["chance"]


def test_accuracy_clearly_above_guessing_is_not_chance_level():
    rows = epochs([1.2, 0.9, 0.7], [1.1, 0.9, 0.8], [0.30, 0.35, 0.40])
    assert [f.kind for f in coach(rows, classes=5)] == ["good"]  # 40 % of 5 classes is twice guessing


def test_a_healthy_run_is_still_called_healthy():
    rows = epochs([0.80, 0.45, 0.38], [0.55, 0.42, 0.37], [0.80, 0.85, 0.87])
    findings = coach(
        rows,
        batches([2.30 * 0.85**n + 0.35 for n in range(30)]),
        classes=10,
        test_accuracy=0.86,
        optimizer="sgd",
        learning_rate=0.01,
    )
    assert [f.title for f in findings] == ["A healthy fit"]
    assert "no sign of overfitting, a flat loss or divergence" in findings[0].statement


def test_a_noisy_first_batch_of_an_epoch_is_not_an_explosion():
    # Epoch 2's first batch is a single batch's loss (not yet a mean): twice the run's start, not ten times.
    losses = [2.30, 2.0, 1.6, 1.3, 1.1, 1.0, 0.9, 0.85, 0.8, 0.78, 1.9, 0.9, 0.8, 0.7, 0.7, 0.65, 0.6, 0.6, 0.6, 0.6]
    rows = epochs([1.3, 0.7], [1.0, 0.72], [0.6, 0.74])
    assert [f.kind for f in coach(rows, batches(losses), classes=10)] == ["good"]
