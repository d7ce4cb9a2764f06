"""Missing-value markers in a column of numbers (issue 25): "?" (as in the UCI auto-mpg file's horsepower),
"NA", "N/A", "n/a", "-", "null", "NaN", an empty cell, with spaces or without, are read as missing values:
the column stays a column of numbers, the import says which markers it read, and the rows without a value are
left out by the missing-value rule (loudly when the target is the one missing)."""

import numpy as np
import pytest

from core.data import tabular

ROWS = 60
NO_HORSEPOWER = (3, 17, 31, 44, 52)  # auto-mpg has 6 "?" horsepowers in 398 rows


def auto_mpg(marker: str = "?", no_mpg=()) -> bytes:
    """A CSV shaped like the UCI auto-mpg file: mpg, cylinders, displacement, horsepower, weight, model year,
    origin, car name; a few horsepowers written as ``marker``."""
    rng = np.random.default_rng(3)
    lines = ["mpg,cylinders,displacement,horsepower,weight,model year,origin,car name"]
    for i in range(ROWS):
        horsepower = marker if i in NO_HORSEPOWER else str(int(rng.integers(46, 230)))
        mpg = "?" if i in no_mpg else f"{rng.uniform(9, 46):.1f}"
        lines.append(
            f"{mpg},{rng.choice([4, 6, 8])},{rng.uniform(68, 455):.1f},{horsepower},{int(rng.integers(1613, 5140))},"
            f'{70 + i % 13},{1 + i % 3},"car {i}"'
        )
    return "\n".join(lines).encode()


@pytest.mark.parametrize("marker", ["?", " ? ", "NA", " NA ", "N/A", "n/a", "-", "null", "NaN", "none", ""])
def test_a_missing_value_marker_keeps_a_number_column_a_number_column(marker):
    frame, notes = tabular.read_csv(auto_mpg(marker))
    columns = {c.name: c for c in tabular.describe(frame)}
    horsepower = columns["horsepower"]
    assert horsepower.kind == tabular.NUMBER, horsepower.reason
    assert horsepower.missing == len(NO_HORSEPOWER)
    assert frame["horsepower"].isna().to_numpy().nonzero()[0].tolist() == list(NO_HORSEPOWER)
    assert not horsepower.written_as  # plain numbers: nothing to say about how they were written
    if marker.strip() and marker.strip() not in ("NA", "N/A", "n/a", "null", "NaN", "none"):
        # pandas reads an unspaced "NA", "null"… as missing itself; "?" and "-" it keeps as text
        assert f"Column 'horsepower' has {marker.strip()!r} in {len(NO_HORSEPOWER)} rows: read as missing" in " ".join(
            notes
        )


def test_rows_without_an_input_are_left_out_as_the_missing_value_rule_says():
    frame, _ = tabular.read_csv(auto_mpg("?"))
    prepared = tabular.prepare(frame, "mpg")
    assert "horsepower" in prepared.feature_names
    assert len(prepared.y_train) + len(prepared.y_test) == ROWS - len(NO_HORSEPOWER)
    assert prepared.report[0] == (
        f"{len(NO_HORSEPOWER)} of {ROWS} rows had a missing value in a chosen column and were left out (the network "
        "needs every value)."
    )
    assert not any("in the target" in line for line in prepared.report)  # the target had all its values
    assert prepared.details["dropped_target_rows"] == 0


def test_rows_without_the_target_are_said_to_be_left_out_loudly():
    frame, _ = tabular.read_csv(auto_mpg("?", no_mpg=(8, 17)))  # row 17 lacks its horsepower too
    prepared = tabular.prepare(frame, "mpg")
    assert prepared.details["dropped_rows"] == len(NO_HORSEPOWER) + 1
    assert prepared.details["dropped_target_rows"] == 2
    # The Data page shows every report line that names a missing value as a warning (csv_import.show_outcome).
    assert prepared.report[1].startswith(
        "2 of those rows have a missing value in the target 'mpg' itself: a row without the value to predict can "
        "neither teach nor test the network"
    )


def test_a_marker_in_the_horsepower_chosen_as_target_leaves_its_rows_out_loudly():
    frame, _ = tabular.read_csv(auto_mpg("?"))
    assert "horsepower" in tabular.target_candidates(frame)
    prepared = tabular.prepare(frame, "horsepower")
    assert prepared.details["dropped_target_rows"] == len(NO_HORSEPOWER)
    assert f"{len(NO_HORSEPOWER)} of those rows have a missing value in the target 'horsepower'" in prepared.report[1]


def test_a_column_with_a_marker_and_a_typo_names_the_typo_not_the_marker():
    lines = auto_mpg("?").decode().splitlines()
    cells = lines[10].split(",")
    cells[3] = "about 90"
    lines[10] = ",".join(cells)
    frame, _ = tabular.read_csv("\n".join(lines).encode())
    horsepower = {c.name: c for c in tabular.describe(frame)}["horsepower"]
    assert horsepower.kind == tabular.LEFT_OUT
    assert horsepower.reason.startswith("mostly numbers, but some entries are not (such as 'about 90')")


def test_a_marker_in_a_category_column_stays_a_category_and_negative_numbers_stay_numbers():
    lines = ["y,colour,change"] + [f"{i},{['red', 'blue', '?'][i % 3]},{'-' if i == 4 else -i}" for i in range(ROWS)]
    frame, _ = tabular.read_csv("\n".join(lines).encode())
    columns = {c.name: c for c in tabular.describe(frame)}
    assert columns["colour"].kind == tabular.CATEGORY and "?" in columns["colour"].categories
    assert columns["change"].kind == tabular.NUMBER and columns["change"].missing == 1
    assert frame["change"].iloc[5] == -5


def test_read_number_reads_no_marker_as_a_number():
    for marker in sorted(tabular.MISSING_MARKERS):
        assert tabular.read_number(marker) is None
        assert tabular.is_missing_marker(f" {marker.upper()} ")
    assert not tabular.is_missing_marker("0") and not tabular.is_missing_marker("-1")
