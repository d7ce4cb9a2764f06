"""Tables for regression: read a CSV safely, choose a numeric target and the feature columns, encode them.

Pure pandas/NumPy. Numbers become normalised features (mean and spread from the TRAINING rows only,
kept in the data set's details for reuse); text columns with few different values are one-hot
encoded; other columns are left out with the reason. Rows with a missing value in a chosen column
are dropped and counted in the report (a plain choice the report states, instead of guessing values).
Every problem raises :class:`TableError` with a message a non-programmer can act on.

The example table ships as ``core/data/synthetic_house_prices.csv``: invented house prices, made by
:func:`make_example_houses` (regenerate with ``python -m core.data.tabular``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import MAX_UPLOAD_MB
from core.data.datasets import REGRESSION

MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_CATEGORIES = 20  # a text column with more different values is left out, not one-hot encoded
MAX_FEATURES = 500  # input columns after one-hot encoding
MIN_ROWS = 10  # complete rows needed: enough to train on and to hold some back for testing
TEST_FRACTION = 0.2
SPLIT_SEED = 0
SNIFF_BYTES = 64_000  # the separator is guessed, and the header read, from at most this much of the start
SNIFF_RECORDS = 20
SEPARATORS = (",", ";", "\t", "|")
NUMBER_LIKE = 0.8  # a text column whose entries are mostly numbers is probably numbers with typos
ID_MIN_ROWS = 20  # fewer rows counting 1, 2, 3… may as well be months or days: not called row numbers

EXAMPLE_CSV = Path(__file__).resolve().parent / "synthetic_house_prices.csv"
EXAMPLE_TITLE = "House prices (synthetic example)"
EXAMPLE_TARGET = "price_k_eur"
EXAMPLE_DESCRIPTION = (
    "Invented data, made by a formula (core/tabular.py, make_example_houses): the price of 600 houses in "
    "thousands of euros from their floor area, rooms, age and district, plus random noise. The street "
    "column has too many different names to be used — the import leaves it out and says why."
)


class TableError(Exception):
    """The table cannot be used as it is; the message says why and what to do."""


# --- reading ---------------------------------------------------------------------------------------


def _limit_bytes(max_mb: float) -> int:
    return int(max_mb * 1024 * 1024)


def _raw_bytes(source: bytes | str | Path, max_mb: float) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > _limit_bytes(max_mb):
                raise TableError(_too_big(path.stat().st_size, max_mb))
            data = path.read_bytes()
        except OSError as error:
            raise TableError(f"The file {path.name} cannot be opened ({error.strerror or error}).") from error
    if len(data) > _limit_bytes(max_mb):
        raise TableError(_too_big(len(data), max_mb))
    return data


def _too_big(size: int, max_mb: float) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB, more than the {max_mb:g} MB this app accepts: "
        f"use fewer rows (at most {MAX_ROWS:,} are used anyway) or fewer columns."
    )


def _decode(data: bytes) -> tuple[str, str]:
    """The text and a note on its encoding ('' for UTF-8)."""
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        raise TableError(
            "This is an Excel workbook or a zip file, not a CSV: in your spreadsheet program use "
            "“Save as” → “CSV”, then upload that file."
        )
    if b"\x00" in head:
        raise TableError(
            "This file is not a text table (it contains binary data). Upload a CSV file: "
            "plain text with one row per line and values separated by commas."
        )
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        # Spreadsheets on Windows often save Latin-1: every byte is a character there, so it always reads.
        return data.decode("latin-1"), "The file is not UTF-8 text; it was read as Latin-1 (Western European)."


def _first_records(sample: str, sep: str, complete: bool) -> list[list[str]]:
    """Up to SNIFF_RECORDS rows of the sample split at ``sep`` (one linear pass of the csv module).

    When the sample is cut from a longer text (``complete`` False), its last row may be cut too: dropped.
    """
    records = []
    try:
        for record in csv.reader(io.StringIO(sample), delimiter=sep):
            records.append(record)
            if len(records) > SNIFF_RECORDS:
                break
    except csv.Error:
        pass
    if not complete and len(records) <= SNIFF_RECORDS:
        records = records[:-1]
    return [r for r in records if r][:SNIFF_RECORDS]


def _sniff(text: str) -> tuple[str, str, list[str]]:
    """The value separator, the decimal mark and the header, from a bounded sample of the file's start.

    Each candidate separator splits the first rows; the one that gives the most columns, the same number
    in every row, wins (',' when none splits anything). Work is bounded by SNIFF_BYTES, whatever the file.
    """
    sample = text[:SNIFF_BYTES]
    complete = len(text) <= SNIFF_BYTES
    best, best_records = ",", None
    for sep in SEPARATORS:
        records = _first_records(sample, sep, complete)
        if not records:
            continue
        width = len(records[0])
        consistent = all(len(r) == width for r in records)
        if best_records is None:
            best_records = records
        if consistent and width > 1 and (len(best_records[0]) <= 1 or width > len(best_records[0])):
            best, best_records = sep, records
    if not best_records:
        raise TableError(
            f"The first line of the file (its header, the column names) is longer than {SNIFF_BYTES // 1000} KB: "
            "this is not a table this app can use. Keep only the columns you need in the CSV."
        )
    # Spreadsheets that separate with ';' usually write decimals with a comma (3,5).
    decimal = "," if best == ";" and re.search(r"\d,\d", sample) else "."
    return best, decimal, best_records[0]


def _check_header(header: list[str]) -> None:
    """Refuse a header with too many or mostly repeated names before the table is parsed."""
    if len(header) > MAX_COLUMNS:
        raise TableError(
            f"The table has {len(header):,} columns; at most {MAX_COLUMNS} can be used. "
            "Keep only the columns you need in the CSV."
        )
    names = [name.strip() for name in header]
    if len(header) > 2 and len(set(names)) <= len(names) // 2:
        raise TableError(
            f"Most of the table's {len(names)} column names are repeated (only {len(set(names))} different): "
            "give each column its own name in the first line."
        )


def read_csv(source: bytes | str | Path, *, max_mb: float = MAX_UPLOAD_MB) -> tuple[pd.DataFrame, list[str]]:
    """The table and notes about how it was read; raises TableError for anything unreadable or too large."""
    data = _raw_bytes(source, max_mb)
    if not data.strip():
        raise TableError("The file is empty: it has no header and no rows.")
    text, encoding_note = _decode(data)
    sep, decimal, header = _sniff(text)
    _check_header(header)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, nrows=MAX_ROWS + 1, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise TableError("The file is empty: it has no header and no rows.") from None
    except (pd.errors.ParserError, ValueError, csv.Error) as error:
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise TableError(
            f"The file cannot be read as a CSV table ({detail}). Check that every row has the "
            "same number of values as the header, separated by commas."
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    notes = [encoding_note] if encoding_note else []
    _check_size(frame)
    written, marked = read_spreadsheet_numbers(frame, decimal)
    frame.attrs[WRITTEN_AS_ATTR] = written  # describe() tells each column's description
    if sep != ",":
        notes.append(
            f"Values are separated by {_SEPARATOR_NAMES.get(sep, repr(sep))}"
            + (" and decimals written with a comma." if decimal == "," else ".")
        )
    notes += [f"Column {name!r} holds {how}: they were read as numbers." for name, how in written.items()]
    notes += [_markers_note(name, markers) for name, markers in marked.items()]
    return frame, notes


WRITTEN_AS_ATTR = "written_as"  # frame.attrs: column name -> how its numbers were written in the file
_SEPARATOR_NAMES = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _check_size(frame: pd.DataFrame) -> None:
    if len(frame.columns) > MAX_COLUMNS:
        raise TableError(
            f"The table has {len(frame.columns):,} columns; at most {MAX_COLUMNS} can be used. "
            "Keep only the columns you need in the CSV."
        )
    if len(frame) > MAX_ROWS:
        raise TableError(
            f"The table has more than {MAX_ROWS:,} rows, the most this app trains on: keep a "
            f"sample of at most {MAX_ROWS:,} rows in the CSV."
        )
    if len(frame) == 0:
        raise TableError("The table has a header but no rows of data.")
    if len(frame) == 1:
        raise TableError(
            "The table has only one row of data: a network learns from many examples — "
            f"at least {MIN_ROWS}, and better hundreds."
        )
    if len(frame) < MIN_ROWS:
        raise TableError(
            f"The table has only {len(frame)} rows of data: at least {MIN_ROWS} are needed "
            "(some to learn from, some held back to test), and better hundreds."
        )


# --- numbers as spreadsheets write them --------------------------------------------------------

CURRENCIES = "$€£¥"
SPACES = " \u00a0\u202f\u2009"  # a space, the non-breaking ones spreadsheets put between thousands, a thin one
GROUP_MARKS = {".": ",'" + SPACES, ",": ".'" + SPACES}  # decimal mark -> the thousands separators that go with it
MINUS_SIGNS = "-\u2212"  # a hyphen, or the minus sign some programs write
WRITTEN_AS = {  # what was seen in a column -> how its description says it
    "thousands": "thousands separators",
    "comma": "a comma as decimal mark",
    "percent": "percent signs (12 % is read as 12)",
    "brackets": "negatives in brackets ((5) is −5)",
    "minus": "a minus sign (−)",
}


def _number_pattern(decimal: str) -> re.Pattern:
    groups = re.escape(GROUP_MARKS[decimal])
    # Whole digits, or groups of three after 1-3 digits with one separator throughout (1,234,567; 1 234),
    # so "3,5" or "12.03.2024" are never taken for thousands.
    whole = rf"(?P<whole>\d+|[1-9]\d{{0,2}}(?P<group>[{groups}])\d{{3}}(?:(?P=group)\d{{3}})*)"
    return re.compile(rf"^(?:{whole}(?:{re.escape(decimal)}(?P<fraction>\d+))?|{re.escape(decimal)}(?P<bare>\d+))$")


NUMBER_PATTERNS = {decimal: _number_pattern(decimal) for decimal in GROUP_MARKS}


def read_number(text: str, decimal: str = ".") -> tuple[float, frozenset[str]] | None:
    """A number as a spreadsheet may write it ("1,037.5", "12%", "$3", "€ 1 234,50", "(1,234)", " 7 "),
    with what was seen in it (WRITTEN_AS keys, "currency:$"...), or None when the text is not a number."""
    rest, seen = text.strip(SPACES + "\t"), set()
    if rest.startswith("(") and rest.endswith(")"):
        rest, negative = rest[1:-1].strip(SPACES), True
        seen.add("brackets")
    else:
        negative = False
    for _ in range(2):  # a sign and a currency, in either order: "-$3", "$-3"
        if rest[:1] and rest[0] in MINUS_SIGNS and not negative:
            if rest[0] != "-":
                seen.add("minus")
            rest, negative = rest[1:].lstrip(SPACES), True
        if rest[:1] and rest[0] in CURRENCIES:
            seen.add(f"currency:{rest[0]}")
            rest = rest[1:].lstrip(SPACES)
    if rest[-1:] and rest[-1] in CURRENCIES:
        seen.add(f"currency:{rest[-1]}")
        rest = rest[:-1].rstrip(SPACES)
    if rest.endswith("%"):
        seen.add("percent")
        rest = rest[:-1].rstrip(SPACES)
    currencies = [mark for mark in seen if mark.startswith("currency:")]
    if len(currencies) > 1 or (currencies and "percent" in seen):
        return None
    match = NUMBER_PATTERNS[decimal].match(rest)
    if match is None:
        return None
    whole, fraction = match["whole"] or "0", match["fraction"] or match["bare"] or ""
    if match["group"]:
        whole = whole.replace(match["group"], "")
        seen.add("thousands")
    if fraction and decimal == ",":
        seen.add("comma")
    value = float(f"{whole}.{fraction}" if fraction else whole)
    return (-value if negative else value), frozenset(seen)


# What files write in a cell of numbers for "no value" (compared without case and surrounding spaces):
# pandas already reads some of them ("NA", "null", "NaN"…) as missing, but not "?" (the UCI files, such as
# auto-mpg's horsepower) or "-", and not any of them with a space around them.
MISSING_MARKERS = frozenset({"", "?", "-", "--", "na", "n/a", "nan", "null", "none", "#n/a"})


def is_missing_marker(text) -> bool:
    """True for a cell that says "no value" ("?", "NA", "n/a", "-", " ? ", an empty one…)."""
    return isinstance(text, str) and text.strip(SPACES + "\t").lower() in MISSING_MARKERS


def spreadsheet_numbers(series: pd.Series, decimal: str = ".") -> tuple[pd.Series, str] | None:
    """A text column whose every entry is a number as spreadsheets write them (or a missing-value marker,
    see MISSING_MARKERS, which becomes missing), as floats, with a description of how they were written; None
    when any other entry is not such a number (the column stays text) or when the column mixes currencies or
    decimal marks.

    The file's decimal mark is tried first, then the other one (a comma-separated file with "3,5" in quotes).
    """
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    entries = series.dropna().astype(str)
    entries = entries[~entries.map(is_missing_marker)]
    if entries.empty:
        return None
    for mark in dict.fromkeys((decimal, "," if decimal == "." else ".")):
        read = _read_all(entries.unique(), mark)
        if read is not None:
            seen = frozenset().union(*(marks for _, marks in read.values()))
            if len({m for m in seen if m.startswith("currency:")}) > 1:
                return None  # dollars and euros in one column are not one quantity
            values = series.map({text: value for text, (value, _) in read.items()}).astype(float)
            spaced = any(text != text.strip(SPACES + "\t") for text in read)
            return values, (_written_as(seen, read) if seen or spaced else "")
    return None


def missing_markers(series: pd.Series) -> dict[str, int]:
    """The missing-value markers a text column holds, as written (stripped), and how many cells each."""
    texts = series.dropna().astype(str)
    marked = texts[texts.map(is_missing_marker)].str.strip(SPACES + "\t")
    return {text: int(count) for text, count in marked.value_counts().items() if text}


def _read_all(texts, decimal: str) -> dict[str, tuple[float, frozenset[str]]] | None:
    """Each text read as a number, or None as soon as one is not a number."""
    read = {}
    for text in texts:
        number = read_number(text, decimal)
        if number is None:
            return None
        read[text] = number
    return read


def _written_as(seen: frozenset[str], read: dict) -> str:
    """ "numbers written with thousands separators and a $ sign (such as '$1,200' → 1200)"."""
    parts = [WRITTEN_AS[mark] for mark in WRITTEN_AS if mark in seen]
    parts += [f"a {mark.split(':')[1]} sign" for mark in sorted(seen) if mark.startswith("currency:")]
    if not parts:
        return "numbers written with spaces around them"
    example = next(text for text, (_, marks) in read.items() if marks)
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"numbers written with {listed} (such as {example.strip()!r} → {read[example][0]:g})"


def read_spreadsheet_numbers(frame: pd.DataFrame, decimal: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Turn every text column that holds only spreadsheet-written numbers (and missing-value markers) into
    numbers, in place; returns column name -> how its numbers were written (when not plainly), and column name
    -> the markers read as missing values with their counts. pandas' own ``thousands`` option is not used: it
    does not check the groups of three ("1.5" would become 15)."""
    written, marked = {}, {}
    for name in frame.columns:
        read = spreadsheet_numbers(frame[name], decimal)
        if read is not None:
            markers = missing_markers(frame[name])
            frame[name], how = read
            if how:
                written[name] = how
            if markers:
                marked[name] = markers
    return written, marked


def _markers_note(name: str, markers: dict[str, int]) -> str:
    """ "Column 'horsepower' has '?' in 6 rows: read as missing values." """
    listed = " and ".join(f"{text!r} in {count:,} row{'s' if count != 1 else ''}" for text, count in markers.items())
    return f"Column {name!r} has {listed}: read as missing values (its other entries are numbers)."


# --- what each column can be ---------------------------------------------------------------------

NUMBER, CATEGORY, LEFT_OUT = "number", "category", "left out"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # NUMBER, CATEGORY or LEFT_OUT
    distinct: int
    missing: int
    reason: str = ""  # why a column is left out
    categories: tuple[str, ...] = ()
    written_as: str = ""  # how the file wrote a column of numbers, when not plainly ("numbers written with...")

    @property
    def usage(self) -> str:
        """How the column goes into the network, in words."""
        if self.kind == NUMBER:
            read = f" ({self.written_as}, read as numbers)" if self.written_as else ""
            return f"number{read}: normalised (mean 0, spread 1 on the training rows)"
        if self.kind == CATEGORY:
            return f"category: one-hot encoded into {len(self.categories)} columns of 0/1"
        return f"left out: {self.reason}"


def _text_values(series: pd.Series) -> pd.Series:
    return series.dropna().astype(str).str.strip()


def _is_number(text: str) -> bool:
    return read_number(text, ".") is not None or read_number(text, ",") is not None


def _number_entries(text: pd.Series) -> pd.Series:
    """True for each entry that is a number (as a spreadsheet may write it); all False at once when none of
    the first different values is one (names, identifiers: most text columns)."""
    unique = text.unique()
    if not any(_is_number(value) for value in unique[:SNIFF_RECORDS]):
        return pd.Series(False, index=text.index)
    return text.map({value: _is_number(value) for value in unique}).astype(bool)


def describe_column(name: str, series: pd.Series, written_as: str = "") -> Column:
    """What the column can be; ``written_as`` says how the file wrote its numbers (read_csv found it)."""
    missing = int(series.isna().sum())
    values = series.dropna()
    distinct = int(values.nunique())
    if distinct == 0:
        return Column(name, LEFT_OUT, 0, missing, "it is empty")
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        text = _text_values(series)
        given = text[~text.map(is_missing_marker)]  # "?", "n/a"…: no value, neither a number nor a typo
        numbers = _number_entries(given)  # as spreadsheets write them too ("1,037.5", "12%", "$3")
        if len(given) and numbers.all():  # read_csv reads such a column, unless its entries disagree
            return Column(
                name,
                LEFT_OUT,
                distinct,
                missing,
                f"numbers written in different ways (such as {' and '.join(map(repr, given.unique()[:2]))}: "
                "different currency signs or decimal marks): write them all one way in the CSV",
            )
        if len(given) and numbers.mean() >= NUMBER_LIKE:
            example = given[~numbers].iloc[0]
            return Column(
                name,
                LEFT_OUT,
                distinct,
                missing,
                f"mostly numbers, but some entries are not (such as {example!r}): correct them in "
                "the CSV, or leave those cells empty to mark them missing",
            )
        if text.nunique() == 1:
            return Column(
                name,
                LEFT_OUT,
                distinct,
                missing,
                f"it has the same value ({text.iloc[0]!r}) in every row, so it cannot help to predict anything",
            )
        if text.nunique() > MAX_CATEGORIES:
            return Column(
                name,
                LEFT_OUT,
                distinct,
                missing,
                f"text with {text.nunique():,} different values — more than {MAX_CATEGORIES}, too many "
                "to encode as categories (it looks like names, identifiers or free text)",
            )
        return Column(name, CATEGORY, distinct, missing, categories=tuple(sorted(text.unique())))
    finite = np.isfinite(values.to_numpy(dtype=float))
    if not finite.all():
        return Column(name, LEFT_OUT, distinct, missing, "it contains infinite values")
    if (reason := identifier_reason(name, values)) is not None:
        return Column(name, LEFT_OUT, distinct, missing, reason)
    if distinct == 1:
        return Column(
            name,
            LEFT_OUT,
            distinct,
            missing,
            f"it has the same value ({values.iloc[0]:g}) in every row, so it cannot help to predict anything",
        )
    return Column(name, NUMBER, distinct, missing, written_as=written_as)


_ID_NAME_CASED = re.compile(r"^(?:.*[_ \-](?:id|ID|Id)|.*[a-z]Id|.*[a-z]ID)$")


def looks_like_id_name(name: str) -> bool:
    """A column name that says it numbers or identifies rows: "Unnamed: 0" (pandas' index written out),
    "id", "ID", "customer_id", "houseId", "index", "row", "No"."""
    plain = name.strip()
    if re.fullmatch(r"unnamed: ?\d+|index|row|row ?(?:no|nr|number|num|id)|no\.?|#|id", plain, re.IGNORECASE):
        return True
    return _ID_NAME_CASED.fullmatch(plain) is not None


def identifier_reason(name: str, values: pd.Series) -> str | None:
    """Why a column of numbers is left out as a row number or an identifier, or None when it is a measurement.

    Only columns of whole numbers written without decimals count. A row number: counting 0, 1, 2… or 1, 2, 3… down the file (what a spreadsheet or pandas
    writes as its index). An identifier: a name saying so ("id", "customer_id", "Unnamed: 0") and a different
    whole number in every row. Either predicts nothing: a network would learn the order of the file.
    """
    if len(values) < ID_MIN_ROWS or not pd.api.types.is_integer_dtype(values):
        return None  # written with decimals (or with gaps read as missing): a measurement
    numbers = values.to_numpy(dtype=float)
    steps = np.diff(numbers)
    if numbers[0] in (0, 1) and np.all(steps == 1):
        return (
            f"it counts the rows ({numbers[0]:g}, {numbers[1]:g}, {numbers[2]:g} … {numbers[-1]:g}): a row number "
            "says where a row is in the file, not anything about it"
        )
    if looks_like_id_name(name) and len(np.unique(numbers)) == len(numbers):
        return (
            "its name says it identifies rows and every row has a different whole number: an identifier "
            "predicts nothing about a new row"
        )
    return None


def describe(frame: pd.DataFrame) -> list[Column]:
    written = frame.attrs.get(WRITTEN_AS_ATTR, {})
    return [describe_column(name, frame[name], written.get(name, "")) for name in frame.columns]


def target_candidates(frame: pd.DataFrame, columns: list[Column] | None = None) -> list[str]:
    """The columns a network can learn to predict: numbers that vary. Raises TableError when there is none."""
    columns = columns if columns is not None else describe(frame)
    names = [c.name for c in columns if c.kind == NUMBER]
    if not names:
        raise TableError(
            "The table has no column of numbers that varies, so there is nothing to predict: a "
            "regression needs a numeric target column (a price, a temperature, a count…). Text "
            "columns cannot be the target."
        )
    return names


# Words in a column's name that say it is what a table is usually made to predict.
TARGET_WORDS = ("price", "prices", "value", "val", "target", "y", "label", "outcome", "output", "response", "medv")


def _name_words(name: str) -> list[str]:
    """ "MedHouseVal" -> ["med", "house", "val"]; "sale_price" -> ["sale", "price"]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def target_name_rank(name: str) -> int:
    """2 when the whole name is a target word ("price", "y"), 1 when one of its words is ("SalePrice",
    "median_house_value"), 0 otherwise."""
    if name.strip().lower() in TARGET_WORDS:
        return 2
    return 1 if any(word in TARGET_WORDS for word in _name_words(name)) else 0


@dataclass(frozen=True)
class TargetChoice:
    name: str | None  # the column to predict by default; None: the user is asked to choose
    note: str  # why, in a sentence
    warning: str = ""  # a column that looked like the target but cannot be one, and why


def default_target(columns: list[Column]) -> TargetChoice:
    """The column to predict by default: one named like a target (price, value, target, y…; the whole name
    before a word of it, then the rightmost), else none: the user is asked. The last numeric column is no
    guess: in real files it is as often a count, a date part or a code.

    When the column named most like a target cannot be one (text, mostly numbers with a few typos), the
    warning says so loudly instead of another column silently taking its place."""
    ranked = [(target_name_rank(c.name), i, c) for i, c in enumerate(columns) if target_name_rank(c.name)]
    if not ranked:
        return TargetChoice(None, "No column is named like a value to predict (price, value, target, y…): choose one.")
    best_rank = max(rank for rank, _, _ in ranked)
    best = [c for rank, _, c in ranked if rank == best_rank]
    usable = [c for c in best if c.kind == NUMBER]
    refused = [c for c in best if c.kind != NUMBER]
    warning = " ".join(
        f"Column {c.name!r} looks like the value to predict, but it cannot be the target: "
        f"{c.reason or 'it holds categories (text), and only numbers can be predicted'}."
        for c in refused
    )
    if usable:
        chosen = usable[-1]
        return TargetChoice(
            chosen.name, f"{chosen.name!r} is chosen because its name says it is the value to predict.", warning
        )
    return TargetChoice(None, "Choose the column to predict.", warning)


# --- preparing the arrays ------------------------------------------------------------------------


@dataclass
class PreparedTable:
    x_train: np.ndarray  # float32 rows × features
    y_train: np.ndarray  # float32 targets
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    target_name: str
    details: dict  # how each column was encoded, with the training statistics
    report: list[str] = field(default_factory=list)  # plain sentences about what was done

    def arrays(self) -> dict[str, np.ndarray]:
        return {"x_train": self.x_train, "y_train": self.y_train, "x_test": self.x_test, "y_test": self.y_test}


def _check_target(frame: pd.DataFrame, target: str) -> None:
    if target not in frame.columns:
        raise TableError(f"The table has no column {target!r}.")
    series = frame[target]
    values = series.dropna()
    if len(values) == 0:
        raise TableError(f"The target column {target!r} is empty: choose a column of numbers as the target.")
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        column = describe_column(target, series)
        hint = f" ({column.reason})" if column.reason.startswith("mostly numbers") else ""
        raise TableError(
            f"The target column {target!r} holds text, not numbers{hint}, so a regression cannot "
            "predict it: choose a column of numbers as the target."
        )
    if values.nunique() <= 1:
        raise TableError(
            f"The target column {target!r} has the same value ({values.iloc[0]:g}) in every row: "
            "there is nothing to learn. Choose a column whose values vary."
        )
    if not np.isfinite(values.to_numpy(dtype=float)).all():
        raise TableError(f"The target column {target!r} contains infinite values: correct them in the CSV.")


def _chosen_features(frame: pd.DataFrame, target: str, features, columns: dict[str, Column]) -> list[str]:
    if features is None:
        usable = [n for n, c in columns.items() if n != target and c.kind != LEFT_OUT]
        if not usable:
            raise _no_usable_inputs(target, columns)
        return usable
    features = list(dict.fromkeys(features))
    for name in features:
        if name not in columns:
            raise TableError(f"The table has no column {name!r}.")
        if name == target:
            raise TableError(f"{name!r} is the target: it cannot also be an input column.")
        if columns[name].kind == LEFT_OUT:
            raise TableError(f"The column {name!r} cannot be an input: {columns[name].reason}.")
    if not features:
        raise TableError("Choose at least one input column besides the target.")
    return features


def _no_usable_inputs(target: str, columns: dict[str, Column]) -> TableError:
    reasons = "; ".join(f"{name!r}: {c.reason}" for name, c in columns.items() if name != target)
    return TableError(
        f"No column besides the target {target!r} can be an input"
        + (f" ({reasons[:300]})" if reasons else "")
        + ": a network needs at least one column of numbers or of a few categories to predict from."
    )


def split_indices(n: int, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED):
    """Shuffled training and test row positions; the same seed gives the same split."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(max(1, round(n * test_fraction)), n - 1)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def prepare(
    frame: pd.DataFrame,
    target: str,
    features=None,
    *,
    test_fraction: float = TEST_FRACTION,
    seed: int = SPLIT_SEED,
    source: str = "",
) -> PreparedTable:
    """Float32 arrays for a regression of ``target`` on ``features`` (default: every usable column).

    Targets of any size train alike: the trainer standardises them (core.training.target_scaling).
    """
    _check_target(frame, target)
    columns = {c.name: c for c in describe(frame)}
    features = _chosen_features(frame, target, features, columns)
    report = []
    used = frame[[*features, target]]
    complete = used.notna().all(axis=1).to_numpy()
    dropped = int((~complete).sum())
    no_target = int(used[target].isna().sum())
    if dropped:
        report.append(
            f"{dropped:,} of {len(frame):,} rows had a missing value in a chosen column and were left "
            "out (the network needs every value)."
        )
    if no_target:  # said apart: these rows are lost whatever the inputs, and the user may not expect it
        report.append(
            f"{no_target:,} of those rows {'has' if no_target == 1 else 'have'} a missing value in the target "
            f"{target!r} itself: a row without the value to predict can neither teach nor test the network, so it "
            "is left out whatever its inputs."
        )
    used = used[complete].reset_index(drop=True)
    if len(used) < MIN_ROWS:
        raise TableError(
            f"Only {len(used)} row(s) have a value in every chosen column; at least {MIN_ROWS} "
            "are needed. Fill in the missing values in the CSV, or leave out the columns that have "
            "most of them."
        )
    y = used[target].to_numpy(dtype=np.float64)
    if np.unique(y).size <= 1:
        raise TableError(
            f"In the rows that can be used, the target {target!r} has the same value ({y[0]:g}) "
            "every time: there is nothing to learn."
        )
    train, test = split_indices(len(used), test_fraction, seed)
    blocks, names, encoding = [], [], {}
    for name in features:
        column = columns[name]
        if column.kind == NUMBER:
            values = used[name].to_numpy(dtype=np.float64)
            mean, std = float(values[train].mean()), float(values[train].std())
            std = std if std > 0 else 1.0  # constant in the training rows: centre it, don't divide by 0
            blocks.append(((values - mean) / std)[:, None])
            names.append(name)
            encoding[name] = {"kind": NUMBER, "mean": mean, "std": std}
            if column.written_as:
                encoding[name]["written_as"] = column.written_as
        else:
            text = used[name].astype(str).str.strip()
            categories = list(column.categories)
            blocks.append((text.to_numpy()[:, None] == np.array(categories)[None, :]).astype(np.float64))
            names += [f"{name}={value}" for value in categories]
            encoding[name] = {"kind": CATEGORY, "categories": categories}
    if len(names) > MAX_FEATURES:
        raise TableError(
            f"After one-hot encoding the table has {len(names):,} input columns, more than "
            f"{MAX_FEATURES}: choose fewer category columns."
        )
    x = np.hstack(blocks).astype(np.float32)
    y = y.astype(np.float32)
    left_out = {c.name: c.reason for c in columns.values() if c.kind == LEFT_OUT and c.name != target}
    target_name = target
    report.append(
        f"{len(train):,} rows to train on and {len(test):,} held back to test (a {1 - test_fraction:.0%}"
        f"/{test_fraction:.0%} split, shuffled with seed {seed})."
    )
    report.append(f"{len(features)} input column(s) became {len(names)} numbers per row for the network.")
    for name, reason in left_out.items():
        report.append(f"Column {name!r} was left out: {reason}.")
    details = {
        "source": source,
        "rows": int(len(frame)),
        "rows_used": int(len(used)),
        "dropped_rows": dropped,
        "dropped_target_rows": no_target,
        "test_fraction": test_fraction,
        "seed": seed,
        "features": encoding,
        "left_out": left_out,
        "target": {
            "name": target,
            "mean": float(y[train].mean()),
            "std": float(y[train].std()),
            "min": float(y.min()),
            "max": float(y.max()),
        },
    }
    return PreparedTable(x[train], y[train], x[test], y[test], names, target_name, details, report)


def save_table(prepared: PreparedTable, *, owner: str, title: str, store=None) -> str:
    """Store the prepared table as the owner's regression data set; returns its name (``own-...``)."""
    from core.data.user_datasets import UserDatasetStore

    store = store if store is not None else UserDatasetStore()
    return store.save(
        owner=owner,
        title=title,
        arrays=prepared.arrays(),
        task=REGRESSION,
        feature_names=prepared.feature_names,
        target_name=prepared.target_name,
        details={**prepared.details, "kind": "table", "report": prepared.report},
    )


# --- the shipped example -------------------------------------------------------------------------

DISTRICTS = {"Centre": 80.0, "Riverside": 40.0, "North": 0.0, "South": -20.0}
STREETS = tuple(
    f"{name} {kind}"
    for name in ("Oak", "Elm", "Mill", "Park", "Church", "High", "King", "Queen", "Station", "Bridge", "Hill", "Lake")
    for kind in ("Street", "Road", "Lane")
)


def make_example_houses(n: int = 600, seed: int = 7) -> pd.DataFrame:
    """Invented house prices (k€): 1.8 per m², 12 per room, −0.9 per year of age, a district premium, noise."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(35, 200, n).round(0)
    rooms = np.clip(np.round(area / 35 + rng.normal(0, 0.7, n)), 1, 7).astype(int)
    age = rng.integers(0, 81, n)
    district = rng.choice(list(DISTRICTS), n, p=[0.2, 0.2, 0.35, 0.25])
    premium = np.array([DISTRICTS[d] for d in district])
    price = 50 + 1.8 * area + 12 * rooms - 0.9 * age + premium + rng.normal(0, 15, n)
    return pd.DataFrame(
        {
            "area_m2": area.astype(int),
            "rooms": rooms,
            "age_years": age,
            "district": district,
            "street": rng.choice(STREETS, n),
            EXAMPLE_TARGET: price.round(1),
        }
    )


def write_example(path: Path = EXAMPLE_CSV) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    make_example_houses().to_csv(path, index=False)
    return path


def example_bytes() -> bytes:
    return EXAMPLE_CSV.read_bytes()


if __name__ == "__main__":
    print(f"Wrote {write_example()}")
