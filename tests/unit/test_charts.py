"""Chart data: what the live training chart draws from a run's history."""

from dashboard.charts.training import per_batch_values, training_chart


def batches(means, epoch=1, per=3, metric="loss"):
    return [{"step": (epoch - 1) * per + k, "epoch": epoch, metric: m} for k, m in enumerate(means, start=1)]


def test_per_batch_values_undo_keras_running_means():
    # Running means 1.0, 0.75, 0.5 are the batches 1.0, 0.5, 0.0.
    assert per_batch_values(batches([1.0, 0.75, 0.5]), "loss", 3, smoothing=0.0) == [1.0, 0.5, 0.0]


def test_the_line_does_not_jump_back_at_a_new_epoch():
    history = batches([1.0, 0.9, 0.8], epoch=1) + batches([0.7, 0.7, 0.7], epoch=2)
    values = per_batch_values(history, "loss", 3, smoothing=0.0)
    assert values[3] == 0.7  # the first batch of epoch 2 is its own value, not the epoch-1 mean


def test_accuracy_estimates_stay_between_0_and_1():
    values = per_batch_values(batches([0.5, 1.0], metric="accuracy"), "accuracy", 2, smoothing=0.0)
    assert values == [0.5, 1.0]  # 2·1.0 − 0.5 = 1.5 is clipped


def test_a_single_batch_is_still_visible():
    fig = training_chart(batches([0.9], metric="loss"), [], 3)
    line = [t for t in fig.data if "per batch" in t.name][0]
    assert line.mode == "lines+markers" and list(line.y) == [0.9]
