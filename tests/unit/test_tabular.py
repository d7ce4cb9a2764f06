"""The CSV pipeline (reading, column choices, encoding, normalisation, bad files); regression results.

Training on tables: tests/training/test_regression_training.py.
"""

import io

import numpy as np
import pandas as pd
import pytest

from core.data import tabular
from core.data.datasets import load_dataset
from core.data.tabular import TableError, describe, prepare, read_csv, save_table, target_candidates
from core.runs.record import Run
from core.training.evaluation import regression_metrics, summarize_regression
from core.training.hyperparams import Hyperparameters
from core.training.presets import TABLE_PRESETS


def csv_bytes(frame: pd.DataFrame, **options) -> bytes:
    return frame.to_csv(index=False, **options).encode()


def houses(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "area": rng.uniform(50, 150, n).round(),
            "district": rng.choice(["A", "B", "C"], n),
            "price": rng.uniform(100, 300, n).round(1),
        }
    )


def refused(message: str, data: bytes, **options) -> None:
    with pytest.raises(TableError) as error:
        frame, _ = read_csv(data, **options)
        prepare(frame, target_candidates(frame)[-1])
    assert message in str(error.value)


# --- encoding and normalisation -----------------------------------------------------------------


def test_categories_are_one_hot_encoded_into_named_columns():
    frame = houses()
    table = prepare(frame, "price")
    assert table.feature_names == ["area", "district=A", "district=B", "district=C"]
    x = np.vstack([table.x_train, table.x_test])
    assert x.dtype == np.float32 and table.y_train.dtype == np.float32
    one_hot = x[:, 1:]
    assert set(np.unique(one_hot)) == {0.0, 1.0} and (one_hot.sum(axis=1) == 1).all()
    assert table.details["features"]["district"] == {"kind": "category", "categories": ["A", "B", "C"]}


def test_numbers_are_normalised_with_the_training_rows_statistics_only():
    frame = houses(50)
    table = prepare(frame, "price", ["area"], seed=5)
    train, test = tabular.split_indices(50, seed=5)
    area = frame["area"].to_numpy()
    mean, std = area[train].mean(), area[train].std()
    stats = table.details["features"]["area"]
    assert stats["mean"] == pytest.approx(mean) and stats["std"] == pytest.approx(std)
    assert mean != pytest.approx(area.mean())  # the test rows' values did not count
    np.testing.assert_allclose(table.x_train[:, 0], (area[train] - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(table.x_test[:, 0], (area[test] - mean) / std, rtol=1e-5)
    assert table.x_train[:, 0].mean() == pytest.approx(0, abs=1e-5)
    assert (len(table.y_train), len(table.y_test)) == (40, 10)
    np.testing.assert_allclose(table.y_test, frame["price"].to_numpy()[test], rtol=1e-6)


def test_the_split_is_seeded():
    frame = houses()
    assert np.array_equal(prepare(frame, "price").y_test, prepare(frame, "price").y_test)
    assert not np.array_equal(prepare(frame, "price", seed=1).y_test, prepare(frame, "price").y_test)


def test_columns_that_cannot_be_used_are_left_out_with_their_reason():
    n = 30
    frame = houses(n).assign(
        name=[f"house {i}" for i in range(n)],
        country="NL",
        size=["12"] * (n - 2) + ["12,5 m2", "n.a."],
        constant=7,
    )
    columns = {c.name: c for c in describe(frame)}
    assert columns["district"].usage == "category: one-hot encoded into 3 columns of 0/1"
    assert columns["area"].kind == "number"
    assert "30 different values" in columns["name"].reason and "more than 20" in columns["name"].reason
    assert "same value ('NL') in every row" in columns["country"].reason
    assert "mostly numbers, but some entries are not (such as '12,5 m2')" in columns["size"].reason
    assert "same value (7) in every row" in columns["constant"].reason
    table = prepare(frame, "price")
    assert table.feature_names == ["area", "district=A", "district=B", "district=C"]
    assert any("'name' was left out: text with 30 different values" in line for line in table.report)
    with pytest.raises(TableError, match="The column 'name' cannot be an input: text with 30"):
        prepare(frame, "price", ["area", "name"])


# --- bad files ----------------------------------------------------------------------------------


def test_a_table_without_numbers_is_refused():
    refused("no column of numbers that varies", b"name,colour\nann,red\nbob,blue\n" * 6)


def test_a_text_target_is_refused():
    frame, _ = read_csv(csv_bytes(houses()))
    with pytest.raises(TableError, match="The target column 'district' holds text, not numbers"):
        prepare(frame, "district")


def test_a_target_of_numbers_with_typos_says_which_entry():
    frame = houses().astype({"price": str})
    frame.loc[3, "price"] = "about 200"
    with pytest.raises(TableError, match="holds text, not numbers \\(mostly numbers, but .*'about 200'"):
        prepare(frame, "price")


def test_a_constant_target_is_refused():
    frame = houses().assign(price=5.0)
    with pytest.raises(TableError, match="'price' has the same value \\(5\\) in every row: there is nothing"):
        prepare(frame, "price")


def test_rows_with_missing_values_are_dropped_and_counted():
    frame = houses(40)
    frame.loc[[1, 5, 9], "area"] = np.nan
    frame.loc[[5, 12], "district"] = None
    table = prepare(read_csv(csv_bytes(frame))[0], "price")
    assert len(table.y_train) + len(table.y_test) == 36
    assert table.details["dropped_rows"] == 4
    assert table.report[0].startswith("4 of 40 rows had a missing value in a chosen column and were left out")


def test_too_many_missing_values_leave_too_few_rows():
    frame = houses(20)
    frame.loc[3:, "area"] = np.nan
    with pytest.raises(TableError, match="Only 3 row\\(s\\) have a value in every chosen column"):
        prepare(frame, "price")
    assert len(prepare(frame, "price", ["district"]).feature_names) == 3  # without the column it works


@pytest.mark.parametrize(
    "data, message",
    [
        (b"area,price\n100,250\n", "only one row of data"),
        (b"area,price\n" + b"100,250\n" * 4, "only 4 rows of data: at least 10"),
        (b"area,price\n", "a header but no rows"),
        (b"", "The file is empty"),
        (b"  \n\n", "The file is empty"),
        (b"\x00\x01\x02binary\xff" * 50, "not a text table (it contains binary data)"),
        (b"PK\x03\x04" + b"\x00" * 100, "Excel workbook or a zip file, not a CSV"),
        (b'area,price\n1,2\n3,4\n5,"6\n', "cannot be read as a CSV table"),
    ],
)
def test_unreadable_or_tiny_files_get_plain_messages(data, message):
    with pytest.raises(TableError) as error:
        read_csv(data)
    assert message in str(error.value)


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    data = b"a,b\n" + b"1,2\n" * 300_000  # 1.2 MB
    with pytest.raises(TableError, match="The file is 1.1 MB, more than the 1 MB this app accepts"):
        read_csv(data, max_mb=1)
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    with pytest.raises(TableError, match="more than the 1 MB"):
        read_csv(path, max_mb=1)
    with pytest.raises(TableError, match=f"more than {tabular.MAX_ROWS:,} rows"):
        read_csv(data)


def test_too_many_columns_are_refused():
    header = ",".join(f"c{i}" for i in range(tabular.MAX_COLUMNS + 1))
    with pytest.raises(TableError, match=f"{tabular.MAX_COLUMNS + 1} columns; at most {tabular.MAX_COLUMNS}"):
        read_csv((header + "\n" + ",".join("1" * (tabular.MAX_COLUMNS + 1)) + "\n").encode() * 12)


def test_semicolons_decimal_commas_and_latin1_are_read():
    text = "surface;quartier;prix\n" + "".join(f"{50 + i},5;Sud;{100 + i},25\n" for i in range(12))
    text = text.replace("Sud", "Sùd")
    frame, notes = read_csv(text.encode("latin-1"))
    assert list(frame.columns) == ["surface", "quartier", "prix"]
    assert frame["surface"].iloc[0] == 50.5 and frame["prix"].iloc[1] == 101.25
    assert frame["quartier"].iloc[0] == "Sùd"
    assert "read as Latin-1" in notes[0] and "separated by semicolons and decimals written with a comma" in notes[1]


# --- the shipped example, storing ---------------------------------------------------------------


def test_the_example_csv_is_the_documented_synthetic_formula():
    shipped = pd.read_csv(tabular.EXAMPLE_CSV)
    generated = pd.read_csv(io.StringIO(tabular.make_example_houses().to_csv(index=False)))
    pd.testing.assert_frame_equal(shipped, generated)
    frame, notes = read_csv(tabular.example_bytes())
    assert notes == [] and target_candidates(frame)[-1] == tabular.EXAMPLE_TARGET
    table = prepare(frame, tabular.EXAMPLE_TARGET)
    assert "district=Centre" in table.feature_names and "street" in table.details["left_out"]


def test_a_saved_table_loads_as_the_owners_regression_data_set():
    table = prepare(houses(), "price")
    name = save_table(table, owner="u1", title="My houses")
    data = load_dataset(name)
    assert (data.task, data.owner, data.title, data.target_name) == ("regression", "u1", "My houses", "price")
    assert data.input_shape == (4,) and data.output_units == 1 and not data.is_images
    assert data.feature_names == ("area", "district=A", "district=B", "district=C")
    np.testing.assert_array_equal(data.as_float("x_test"), table.x_test)  # already normalised: unchanged


# --- metrics and training -----------------------------------------------------------------------


def test_regression_metrics_on_known_numbers():
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    predicted = np.array([1.5, 2.0, 2.0, 4.0])  # errors 0.5, 0, -1, 0
    metrics = regression_metrics(predicted, y_true)
    assert metrics["mae"] == pytest.approx(0.375)
    assert metrics["rmse"] == pytest.approx(np.sqrt(1.25 / 4))
    assert metrics["r2"] == pytest.approx(1 - 1.25 / 5)
    assert regression_metrics(y_true, y_true)["r2"] == 1.0
    assert regression_metrics(np.array([1.0, 3.0]), np.array([2.0, 2.0]))["r2"] is None  # undefined
    summary = summarize_regression(predicted, y_true, "price", "mae")
    assert summary["test_loss"] == pytest.approx(0.375) and summary["test_examples"] == 4
    assert summarize_regression(predicted, y_true, "price", "mse")["test_loss"] == pytest.approx(1.25 / 4)


def test_an_unknown_loss_is_refused_plainly():
    assert Hyperparameters(loss="huber").problems() == ["Unknown loss 'huber': choose one of mse, mae."]


def test_compare_ranks_regression_runs_by_test_mae_and_overlays_their_mae():
    from core.insight.compare import diff_runs, leaderboard, overlay_series
    from dashboard.components.leaderboard import leaderboard_frame

    def run(run_id, mae, created):
        r = Run(
            TABLE_PRESETS["tabular"].spec((3,), 1),
            "own-0123456789ab",
            Hyperparameters(),
            run_id=run_id,
            created=created,
            task="regression",
        )
        r.record_epoch(
            {"epoch": 1, "loss": mae**2, "mae": mae, "val_loss": 2 * mae**2, "val_mae": 2 * mae, "seconds": 1.0}
        )
        r.finish("finished", "", {"task": "regression", "test_mae": mae, "test_loss": mae**2})
        return r

    board = leaderboard([run("worse", 3.0, 2), run("better", 1.25, 1)])
    assert [row["run_id"] for row in board] == ["better", "worse"]
    assert board[0]["test_mae"] == 1.25 and board[0]["test_accuracy"] is None
    table = leaderboard_frame(board)  # as Compare shows it: no accuracy column for regressions only
    assert list(table.columns)[:4] == ["Run", "Name", "Status", "Test MAE"] and table["Test MAE"][0] == 1.25
    rows = overlay_series([run("a", 2.0, 1)])
    assert {"run": "a", "metric": "mae", "split": "validation", "epoch": 1, "value": 4.0} in rows
    with_mae = run("b", 2.0, 3)
    with_mae.hyperparameters = Hyperparameters(loss="mae")
    loss = {row.setting: row for row in diff_runs([run("a", 2.0, 1), with_mae])}["Loss"]
    assert loss.values == ("mse", "mae") and loss.differs
    assert "Loss" not in {row.setting for row in diff_runs([Run({}, "shapes", Hyperparameters())] * 2)}


# --- charts -------------------------------------------------------------------------------------


def test_regression_charts_show_the_rows_the_diagonal_and_the_errors():
    from dashboard.charts.regression import predicted_vs_actual_figure, residuals_figure
    from dashboard.charts.training import training_chart

    y_true, predicted = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    scatter = predicted_vs_actual_figure(y_true, predicted, "price")
    diagonal, points = scatter.data
    assert list(diagonal.x) == list(diagonal.y) == [1.0, 4.0]
    assert list(points.x) == [1.0, 2.0, 4.0] and list(points.y) == [1.5, 2.0, 3.0]
    assert scatter.layout.xaxis.title.text == "actual price"
    assert list(residuals_figure(y_true, predicted, "price").data[0].y) == [0.5, 0.0, -1.0]

    batches = [{"step": 1, "epoch": 1, "loss": 9.0, "mae": 3.0}, {"step": 2, "epoch": 1, "loss": 4.0, "mae": 2.0}]
    epochs = [{"epoch": 1, "loss": 4.0, "mae": 2.0, "val_loss": 5.0, "val_mae": 2.2, "seconds": 1.0}]
    chart = training_chart(batches, epochs, 2)
    assert [a.text for a in chart.layout.annotations] == ["Mean absolute error (MAE)", "Loss"]
    assert {t.name for t in chart.data} >= {"training (epoch)", "validation (epoch)"}
    assert chart.layout.yaxis.type == "log" and chart.layout.yaxis2.type == "log"
    classification = training_chart([{"step": 1, "epoch": 1, "loss": 1.0, "accuracy": 0.5}], [], 1)
    assert classification.layout.annotations[0].text == "Accuracy" and classification.layout.yaxis.type != "log"


# --- hostile files: bounded work, plain messages ---------------------------------------------------


@pytest.fixture
def no_sniffer(monkeypatch):
    """csv.Sniffer is quadratic on quote-heavy text: the reader must never use it."""

    def refuse(*args, **kwargs):
        raise AssertionError("csv.Sniffer used")

    monkeypatch.setattr(tabular.csv, "Sniffer", refuse)


def test_a_quote_heavy_file_is_read_without_the_sniffer_and_in_bounded_time(no_sniffer):
    import threading
    import time

    ticks, done = [time.perf_counter()], threading.Event()

    def other_user():  # another session's thread must keep running meanwhile
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=other_user)
    thread.start()
    started = time.perf_counter()
    try:
        for data in ((',"\n' * 5400).encode(), ('"' * 16_000).encode(), (',"\n' * 2_000_000).encode()):
            try:
                read_csv(data)
            except TableError as error:
                assert str(error)[0].isupper()
    finally:
        done.set()
        thread.join()
    assert time.perf_counter() - started < 10  # generous: Sniffer alone took 4 s on the first 16 KB file
    # The other thread was never held up for long (Sniffer held the GIL for seconds).
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 1.5


@pytest.mark.parametrize("columns", [20_000, 400_000])
def test_a_header_of_thousands_of_columns_is_refused_before_parsing(columns, monkeypatch, no_sniffer):
    def parse(*args, **kwargs):
        raise AssertionError("the table was parsed")

    monkeypatch.setattr(tabular.pd, "read_csv", parse)
    data = (",".join(["a"] * columns) + "\n" + ",".join(["1"] * columns) + "\n").encode()
    with pytest.raises(TableError, match=r"columns; at most 100|longer than 64 KB"):
        read_csv(data)


def test_the_separator_is_guessed_from_a_bounded_sample(monkeypatch):
    seen = []
    original = tabular._first_records
    monkeypatch.setattr(tabular, "_first_records", lambda sample, *a: seen.append(len(sample)) or original(sample, *a))
    frame, notes = read_csv(csv_bytes(houses(5_000), sep=";"))
    assert list(frame.columns) == ["area", "district", "price"] and "semicolons" in notes[0]
    assert max(seen) <= tabular.SNIFF_BYTES


def test_mostly_repeated_column_names_are_refused():
    data = b"a,a,a,a,b\n" + b"1,2,3,4,5\n" * 20
    with pytest.raises(TableError, match="Most of the table's 5 column names are repeated"):
        read_csv(data)


def test_a_table_with_no_usable_input_column_gets_a_plain_error():
    frame = pd.DataFrame({"name": [f"n{i}" for i in range(30)], "price": np.arange(30.0)})
    with pytest.raises(TableError, match="No column besides the target 'price' can be an input") as error:
        prepare(frame, "price")
    assert "'name': text with 30 different values" in str(error.value)
