"""Coaching rules on synthetic histories: each finding fires on its pattern, quotes the numbers, and only then."""

import math

from core.insight.coaching import coach, coach_run
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from dashboard.charts.training import mark_findings, training_chart


def history(loss, val_loss=None, accuracy=None):
    rows = []
    for n, value in enumerate(loss):
        row = {"epoch": n + 1, "loss": value, "accuracy": (accuracy or [0.5] * len(loss))[n], "seconds": 1.0}
        if val_loss is not None:
            row.update(val_loss=val_loss[n], val_accuracy=0.5)
        rows.append(row)
    return rows


def batches(losses, per_epoch=10):
    return [{"step": n + 1, "epoch": n // per_epoch + 1, "loss": v, "accuracy": 0.5} for n, v in enumerate(losses)]


def kinds(findings):
    return [f.kind for f in findings]


# --- overfitting ---------------------------------------------------------------------------------

OVERFIT_LOSS = [1.20, 0.80, 0.55, 0.40, 0.30, 0.22]
OVERFIT_VAL = [1.10, 0.75, 0.60, 0.64, 0.70, 0.78]


def test_overfitting_marks_the_epoch_of_the_lowest_validation_loss():
    [finding] = coach(history(OVERFIT_LOSS, OVERFIT_VAL))
    assert finding.kind == "overfitting" and finding.epoch == 3
    assert "lowest at epoch 3 (0.600)" in finding.statement
    assert "rose to 0.780 by epoch 6" in finding.statement
    assert "training loss kept falling from 0.550 to 0.220" in finding.statement
    assert "Dropout" in finding.suggestion and "about 3 epochs" in finding.suggestion
    assert "more training images" in finding.suggestion


def test_overfitting_suggestions_fit_the_run():
    [finding] = coach(history(OVERFIT_LOSS, OVERFIT_VAL), has_dropout=True, limit_train=300)
    assert "Raise the Dropout rate" in finding.suggestion
    assert "this run used only 300" in finding.suggestion


def test_one_epoch_of_rising_validation_loss_is_not_overfitting():
    findings = coach(history([1.0, 0.7, 0.5, 0.4], [0.9, 0.7, 0.6, 0.65]))
    assert kinds(findings) == ["good"]
    assert "lowest at epoch 3 (0.600)" in findings[0].statement


def test_validation_noise_below_the_threshold_is_not_overfitting():
    # 0.600 -> 0.605 over two epochs: under 2 %, within the noise of a small validation set.
    assert kinds(coach(history([1.0, 0.7, 0.5, 0.4, 0.35], [0.9, 0.7, 0.600, 0.603, 0.605]))) == ["good"]


def test_no_overfitting_when_training_loss_rises_too():
    findings = coach(history([1.0, 0.7, 0.5, 0.52, 0.56], [0.9, 0.7, 0.6, 0.66, 0.7]))
    assert "overfitting" not in kinds(findings)


# --- flat and diverging --------------------------------------------------------------------------


def test_flat_loss_from_batches_suggests_a_higher_learning_rate():
    losses = [1.6094 - 0.0005 * n for n in range(30)]  # 1.609 -> 1.595: 0.8 % in 30 batches
    findings = coach(history([1.605, 1.600, 1.596]), batches(losses), learning_rate=1e-5)
    assert kinds(findings) == ["flat"]
    statement = findings[0].statement
    assert "from 1.608 to 1.596 over 30 batches" in statement and "only 0.8 %" in statement
    assert "Raise the learning rate (now 1e-05)" in findings[0].suggestion


def test_a_model_that_learns_in_its_first_epoch_is_not_flat():
    # Epoch averages barely move (it learned in epoch 1), but the batches show the loss falling.
    losses = [2.3 * 0.8**n + 0.05 for n in range(30)]
    findings = coach(history([0.30, 0.298, 0.297], [0.31, 0.30, 0.29]), batches(losses))
    assert kinds(findings) == ["good"]


def test_flat_loss_from_epochs_when_no_batches_are_stored():
    findings = coach(history([2.302, 2.301, 2.300, 2.299], [2.302, 2.302, 2.301, 2.301]))
    assert kinds(findings) == ["flat"] and "from epoch 1 to epoch 4" in findings[0].statement


def test_rising_training_loss_is_diverging():
    findings = coach(history([0.9, 0.7, 1.4, 3.2], [0.9, 0.8, 1.5, 3.3]), learning_rate=0.5)
    assert kinds(findings) == ["diverging"]
    assert findings[0].epoch == 2  # the training loss was lowest there
    assert "rose from 0.900 to 3.200" in findings[0].statement
    assert "Lower the learning rate (now 0.5)" in findings[0].suggestion


def test_nan_in_the_history_is_diverging_at_its_epoch():
    findings = coach(history([0.9, 0.8, 0.7], [0.9, 0.8, math.nan]))
    assert kinds(findings) == ["diverging"] and findings[0].epoch == 3
    assert "validation loss became NaN (not a number) at epoch 3" in findings[0].statement


def test_a_run_that_failed_on_nan_is_diverging_in_the_epoch_it_failed():
    run = finished_run(
        history([0.9, 0.7]),
        status=Status.FAILED,
        message="The loss became NaN (not a number) — lower the learning rate and train again.",
    )
    findings = coach_run(run)
    assert kinds(findings) == ["diverging"] and findings[0].epoch == 3
    assert "during epoch 3" in findings[0].statement and "0.700" in findings[0].statement


# --- good fit and too little history -------------------------------------------------------------


def test_good_fit_quotes_both_curves():
    [finding] = coach(history([1.0, 0.6, 0.4], [0.9, 0.5, 0.45]))
    assert finding.kind == "good" and not finding.is_problem
    assert "training loss fell from 1.000 to 0.400" in finding.statement
    assert "validation loss went from 0.900 to 0.450, lowest at epoch 3" in finding.statement
    assert "still falling" in finding.suggestion


def test_without_validation_data_good_fit_says_so():
    [finding] = coach(history([1.0, 0.6, 0.4]))
    assert finding.kind == "good" and "no validation set" in finding.statement


def test_too_little_history_gives_no_statement():
    assert coach([]) == []
    assert coach(history([1.0], [0.9])) == []
    assert coach(history([1.0], [0.9]), batches([2.3, 2.0, 1.8])) == []


def test_a_failed_run_is_never_called_a_good_fit():
    run = finished_run(history([1.0, 0.6], [0.9, 0.5]), status=Status.FAILED, message="Training ran out of memory")
    assert coach_run(run) == []


# --- on a run and on the chart -------------------------------------------------------------------


def finished_run(epochs, status=Status.FINISHED, message="", spec=None):
    run = Run(spec or PRESETS["model1"].spec(num_classes=5), "shapes", Hyperparameters(learning_rate=0.01))
    for row in epochs:
        run.record_epoch(row)
    run.finish(status, message)
    return run


def test_coach_run_uses_the_runs_dropout_and_settings():
    run = finished_run(history(OVERFIT_LOSS, OVERFIT_VAL), spec=PRESETS["model2"].spec(num_classes=5))
    [finding] = coach_run(run)
    assert finding.kind == "overfitting" and "Raise the Dropout rate" in finding.suggestion


def test_overfitting_epoch_is_marked_on_both_charts():
    epochs = history(OVERFIT_LOSS, OVERFIT_VAL)
    figure = mark_findings(training_chart([], epochs, 10), coach(epochs))
    assert [shape.x0 for shape in figure.layout.shapes] == [3, 3]
    labels = [a.text for a in figure.layout.annotations if a.text and "epoch 3" in a.text]
    assert labels == ["validation loss lowest (epoch 3)"]


def test_a_good_fit_adds_no_mark():
    epochs = history([1.0, 0.6, 0.4], [0.9, 0.5, 0.45])
    assert not mark_findings(training_chart([], epochs, 10), coach(epochs)).layout.shapes
