"""Comparing runs: what differs, the overlaid curves, the leaderboard, the default pair, the chart."""

import copy

import pandas as pd

from core.insight.compare import default_selection, diff_runs, leaderboard, overlay_series
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from dashboard.charts.training import compare_chart, run_colours
from dashboard.components.leaderboard import leaderboard_frame


def make_run(
    spec=None, hp=None, *, run_id, created=0.0, accuracy=None, epochs=(), parent_id=None, dataset="shapes", seconds=None
):
    run = Run(
        spec or PRESETS["model1"].spec(num_classes=5),
        dataset,
        hp or Hyperparameters(),
        run_id=run_id,
        created=created,
        params=1000,
        parent_id=parent_id,
        name=f"run {run_id}",
    )
    for row in epochs:
        run.record_epoch(row)
    results = None
    if accuracy is not None:
        results = {"test_accuracy": accuracy, "test_loss": 1 - accuracy, "train_seconds": seconds}
    run.finish(Status.FINISHED, "", results)
    return run


def rows_by_setting(runs):
    return {row.setting: row for row in diff_runs(runs)}


def with_dropout_after_first_conv():
    spec = PRESETS["model1"].spec(num_classes=5)
    spec["layers"].insert(1, {"type": "Dropout", "rate": 0.25})
    return spec


# --- what differs --------------------------------------------------------------------------------


def test_identical_runs_differ_nowhere():
    rows = diff_runs([make_run(run_id="a"), make_run(run_id="b")])
    assert rows and not any(row.differs for row in rows)


def test_one_added_layer_is_one_new_row_not_a_shifted_stack():
    rows = rows_by_setting([make_run(run_id="a"), make_run(with_dropout_after_first_conv(), run_id="b")])
    differing = {name for name, row in rows.items() if row.differs}
    assert differing == {"Number of layers", "Layer order", "dropout (Dropout)", "dropout · rate"}
    assert rows["dropout (Dropout)"].values == ("absent", "present")
    assert rows["dropout · rate"].values == ("—", "0.25")
    assert rows["Number of layers"].values == ("7", "8")
    # The layers below the new one are matched by name: unchanged.
    assert rows["conv2d_1 · filters"].values == ("32", "32")
    names = list(rows)
    assert (
        names.index("conv2d · filters") < names.index("dropout (Dropout)") < names.index("max_pooling2d (MaxPooling2D)")
    )


def test_every_hyperparameter_and_the_data_set_are_compared():
    hp_a = Hyperparameters(optimizer="adam", learning_rate=0.001, epochs=5, batch_size=64, seed=42)
    hp_b = Hyperparameters(
        optimizer="sgd", learning_rate=0.01, epochs=10, batch_size=32, seed=7, validation_split=0.2, limit_train=300
    )
    rows = rows_by_setting([make_run(hp=hp_a, run_id="a"), make_run(hp=hp_b, run_id="b", dataset="mnist")])
    assert rows["Data set"].values == ("shapes", "mnist")
    assert rows["Optimizer"].values == ("adam", "sgd")
    assert rows["Learning rate"].values == ("0.001", "0.01")
    assert rows["Epochs"].values == ("5", "10") and rows["Batch size"].values == ("64", "32")
    assert rows["Seed"].values == ("42", "7") and rows["Validation split"].values == ("0.1", "0.2")
    assert rows["Training images"].values == ("all", "300")
    assert not rows["Test images"].differs


def test_default_settings_equal_explicit_ones_and_a_changed_kernel_differs():
    spec_b = copy.deepcopy(PRESETS["model1"].spec(num_classes=5))
    spec_b["layers"][0]["kernel_size"] = [3, 3]  # the same as 3
    spec_b["layers"][0]["padding"] = "valid"  # the default, now written out
    spec_b["layers"][2]["kernel_size"] = 5
    rows = rows_by_setting([make_run(run_id="a"), make_run(spec_b, run_id="b")])
    assert rows["conv2d · kernel_size"].values == ("3×3", "3×3") and not rows["conv2d · padding"].differs
    assert rows["conv2d_1 · kernel_size"].values == ("3×3", "5×5") and rows["conv2d_1 · kernel_size"].differs
    assert not rows["Layer order"].differs


def test_a_moved_layer_shows_in_the_layer_order():
    spec_b = with_dropout_after_first_conv()
    spec_a = copy.deepcopy(spec_b)
    spec_a["layers"].insert(5, spec_a["layers"].pop(1))  # the Dropout after the second pooling layer instead
    rows = rows_by_setting([make_run(spec_a, run_id="a"), make_run(spec_b, run_id="b")])
    assert [name for name, row in rows.items() if row.differs] == ["Layer order"]


def test_three_runs_are_compared_column_by_column():
    hp_c = Hyperparameters(learning_rate=0.01)
    rows = rows_by_setting([make_run(run_id="a"), make_run(run_id="b"), make_run(hp=hp_c, run_id="c")])
    assert rows["Learning rate"].values == ("0.001", "0.001", "0.01") and rows["Learning rate"].differs


# --- curves, leaderboard, default pair -----------------------------------------------------------

EPOCHS = [
    {"epoch": 1, "loss": 1.0, "accuracy": 0.6, "val_loss": 1.1, "val_accuracy": 0.55, "seconds": 2.0},
    {"epoch": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.75, "seconds": 2.5},
]


def test_overlay_series_has_train_and_validation_of_each_metric_per_epoch():
    rows = overlay_series([make_run(run_id="a", epochs=EPOCHS), make_run(run_id="b", epochs=EPOCHS[:1])])
    assert len(rows) == 2 * 4 + 4
    assert {"run": "a", "metric": "loss", "split": "validation", "epoch": 2, "value": 0.7} in rows
    assert {"run": "b", "metric": "accuracy", "split": "training", "epoch": 1, "value": 0.6} in rows


def test_overlay_series_without_validation_has_training_only():
    epochs = [{"epoch": 1, "loss": 1.0, "accuracy": 0.6, "seconds": 1.0}]
    assert {r["split"] for r in overlay_series([make_run(run_id="a", epochs=epochs)])} == {"training"}


def test_leaderboard_is_best_first_with_unfinished_runs_last():
    runs = [
        make_run(run_id="new", created=3),
        make_run(run_id="ok", created=1, accuracy=0.81, epochs=EPOCHS),
        make_run(run_id="best", created=2, accuracy=0.9234, seconds=12.34),
    ]
    board = leaderboard(runs)
    assert [(row["rank"], row["run_id"]) for row in board] == [(1, "best"), (2, "ok"), (3, "new")]
    assert board[0]["test_accuracy"] == 0.9234 and board[0]["train_seconds"] == 12.34
    assert board[1]["train_seconds"] == 4.5  # from the epoch history when the results lack it
    assert board[2]["test_accuracy"] is None and board[1]["epochs"] == 2
    table = leaderboard_frame(board)  # as Compare shows it
    assert table["Run"].tolist() == ["best", "ok", "new"]
    assert table["Test accuracy (%)"][0] == 92.34 and table["Training time (s)"].tolist()[:2] == [12.3, 4.5]
    assert pd.isna(table["Test accuracy (%)"][2]) and table["Status"][0] == "Finished"
    assert list(table.columns) == [
        "Run",
        "Name",
        "Status",
        "Test accuracy (%)",
        "Test loss",
        "Params",
        "Training time (s)",
        "Epochs",
        "Cloned from",
    ]


def test_equal_results_rank_the_smaller_model_first_then_the_earlier_finish():
    small, big, late = (make_run(run_id=i, accuracy=0.9) for i in ("small", "big", "late"))
    small.params, big.params, late.params = 500, 1000, 500
    small.ended, big.ended, late.ended = 20.0, 10.0, 30.0
    assert [row["run_id"] for row in leaderboard([late, big, small])] == ["small", "late", "big"]


def test_a_leaderboard_ranks_by_the_score_it_is_given():
    runs = [make_run(run_id="a", accuracy=0.9), make_run(run_id="b", accuracy=0.8)]
    hidden = {"a": 0.7, "b": 0.75}  # e.g. the accuracy on a class's hidden test set
    board = leaderboard(runs, score=lambda run: hidden[run.id])
    assert [(row["run_id"], row["score"], row["test_accuracy"]) for row in board] == [("b", 0.75, 0.8), ("a", 0.7, 0.9)]


def test_default_pairs_the_followed_run_with_its_parent():
    runs = [
        make_run(run_id="c", created=3),
        make_run(run_id="child", created=2, parent_id="p"),
        make_run(run_id="p", created=1),
    ]
    assert default_selection(runs, "child") == ["child", "p"]
    assert default_selection(runs, "p") == ["c", "child"]  # no parent: the two newest
    assert default_selection(runs, None) == ["c", "child"]
    gone = [make_run(run_id="orphan", parent_id="deleted")]
    assert default_selection(gone, "orphan") == ["orphan"]


def test_compare_chart_one_colour_per_run_train_solid_validation_dashed():
    runs = [make_run(run_id="a", epochs=EPOCHS), make_run(run_id="b", epochs=EPOCHS)]
    colours = run_colours(["a", "b"])
    figure = compare_chart(overlay_series(runs), {"a": "run a", "b": "run b"}, colours)
    lines = [t for t in figure.data if t.legendgroup in ("a", "b")]
    assert len(lines) == 8  # 2 runs × 2 metrics × (training, validation)
    assert {t.line.color for t in lines if t.legendgroup == "a"} == {colours["a"]} != {colours["b"]}
    assert {(t.name, t.line.dash) for t in lines if t.showlegend} == {("run a", "solid"), ("run b", "solid")}
    dashed = [t for t in lines if t.line.dash == "dash"]
    assert len(dashed) == 4 and list(dashed[0].y) in ([0.55, 0.75], [1.1, 0.7])
    assert {t.name for t in figure.data if t.legendgroup in ("training", "validation")} == {
        "training (solid line)",
        "validation (dashed line)",
    }
