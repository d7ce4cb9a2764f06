"""CSV numbers written as spreadsheets write them are read as numbers, with the right values, and each
column's description says how they were written; text, identifiers and mixed columns stay text."""

import numpy as np
import pytest

from core.data.tabular import CATEGORY, LEFT_OUT, NUMBER, describe, prepare, read_csv, read_number

NBSP = "\u00a0"
ROWS = 12


def spreadsheet_csv() -> bytes:
    header = "price,share,usd,eur,gbp,comma_decimal,debt,spaced,nbsp,kind,code,target"
    lines = [header]
    for i in range(ROWS):
        lines.append(
            ",".join(
                [
                    f'"{1000 + i:,}.5"',  # "1,000.5"
                    f"{i}%",
                    f"${i}",
                    f"{i} €",
                    f"£{i}.50",
                    f'"{i},25"',  # a comma decimal, quoted in a comma-separated file
                    f'"({1000 + i:,})"',  # a negative in brackets
                    f" {i}.5 ",
                    f"{1000 + i:,}".replace(",", NBSP),  # "1 000" with a non-breaking space
                    "abc"[i % 3],
                    f"A-{i:03d}",
                    str(i * 2),
                ]
            )
        )
    return "\n".join(lines).encode()


@pytest.fixture(scope="module")
def table():
    frame, notes = read_csv(spreadsheet_csv())
    return frame, notes, {c.name: c for c in describe(frame)}


def test_each_spreadsheet_number_style_is_read_with_its_value(table):
    frame, _, _ = table
    expected = {
        "price": 1003.5,
        "share": 3.0,  # 3% is read as 3, as written
        "usd": 3.0,
        "eur": 3.0,
        "gbp": 3.5,
        "comma_decimal": 3.25,
        "debt": -1003.0,
        "spaced": 3.5,
        "nbsp": 1003.0,
    }
    for name, value in expected.items():
        assert frame[name].dtype == np.float64, name
        assert frame[name].iloc[3] == pytest.approx(value), name


def test_each_column_says_how_its_numbers_were_written(table):
    _, notes, columns = table
    assert all(columns[name].kind == NUMBER for name in ("price", "share", "usd", "eur", "gbp", "debt", "nbsp"))
    assert columns["price"].written_as == "numbers written with thousands separators (such as '1,000.5' → 1000.5)"
    assert "percent signs (12 % is read as 12)" in columns["share"].written_as
    assert "a $ sign" in columns["usd"].written_as and "a € sign" in columns["eur"].written_as
    assert "a £ sign" in columns["gbp"].written_as
    assert "a comma as decimal mark" in columns["comma_decimal"].written_as
    assert "negatives in brackets" in columns["debt"].written_as and "thousands" in columns["debt"].written_as
    assert "thousands separators" in columns["nbsp"].written_as
    assert columns["price"].usage.startswith("number (numbers written with thousands separators")
    assert columns["target"].written_as == "" and columns["target"].usage.startswith("number: normalised")
    assert any(note.startswith("Column 'price' holds numbers written with thousands") for note in notes)


def test_text_and_identifiers_stay_text(table):
    frame, _, columns = table
    assert columns["kind"].kind == CATEGORY and columns["kind"].categories == ("a", "b", "c")
    assert columns["code"].kind == CATEGORY and frame["code"].iloc[0] == "A-000"  # identifiers with digits


def test_the_read_numbers_train_like_plain_ones(table):
    frame, _, _ = table
    prepared = prepare(frame, "target", ["price", "share", "debt"])
    assert prepared.x_train.shape[1] == 3 and np.isfinite(prepared.x_train).all()
    assert "thousands separators" in prepared.details["features"]["price"]["written_as"]


def test_a_semicolon_csv_with_comma_decimals_and_dot_thousands():
    lines = ["Preis;Anteil;Datum;Menge"]
    for i in range(ROWS):
        price = f"{1000 + i:,}".replace(",", ".") + f",{i % 10}5"  # "1.003,35"
        lines.append(f"{price} €;{i},5 %;{i + 1:02d}.03.2024;{i},25")
    frame, notes = read_csv("\n".join(lines).encode("utf-8"))
    columns = {c.name: c for c in describe(frame)}
    assert notes[0] == "Values are separated by semicolons and decimals written with a comma."
    assert frame["Preis"].iloc[3] == pytest.approx(1003.35)
    assert frame["Anteil"].iloc[3] == pytest.approx(3.5)
    assert frame["Menge"].iloc[3] == pytest.approx(3.25)  # pandas' decimal="," reads the plain ones
    assert "thousands separators" in columns["Preis"].written_as and "a € sign" in columns["Preis"].written_as
    assert "a comma as decimal mark" in columns["Preis"].written_as
    assert frame["Datum"].dtype != np.float64 and frame["Datum"].iloc[2] == "03.03.2024"  # dates stay text


def test_a_column_with_some_plain_text_stays_text_and_says_which_entry():
    lines = ["amount,y"] + [f'"{1000 + i:,}",{i}' for i in range(ROWS - 1)] + ["unknown,99"]
    frame, _ = read_csv("\n".join(lines).encode())
    column = {c.name: c for c in describe(frame)}["amount"]
    assert frame["amount"].dtype != np.float64
    assert column.kind == LEFT_OUT and column.reason.startswith(
        "mostly numbers, but some entries are not (such as 'unknown')"
    )


def test_a_column_mixing_currencies_stays_text():
    lines = ["amount,y"] + [f"{'$' if i % 2 else '€'}{i},{i}" for i in range(ROWS)]
    frame, _ = read_csv("\n".join(lines).encode())
    column = {c.name: c for c in describe(frame)}["amount"]
    assert column.kind == LEFT_OUT and "different currency signs" in column.reason


@pytest.mark.parametrize(
    "text", ["3,5,6", "12.03.2024", "1,5000", "030 123 456", "A12", "1e", "$", "%", "(3", "--3", "1 23"]
)
def test_things_that_only_look_like_numbers_are_not_read_as_numbers(text):
    assert read_number(text, ".") is None
