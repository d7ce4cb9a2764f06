"""The leaderboard as a table: the rows of core.insight.compare.leaderboard in the columns a page shows.

Compare, the Teacher page and the Projector each choose their columns; the values are made here once.
Plain pandas: no Streamlit.
"""

from __future__ import annotations

import pandas as pd

from core.training.target import reached_text
from dashboard.components.labels import percent, status_label


def _rounded(value, digits: int):
    return None if value is None else round(value, digits)


# Column title -> its value in a leaderboard row. "Test accuracy" is the score the board ranks by.
COLUMNS = {
    "#": lambda r: r["rank"],
    "Run": lambda r: r["run_id"],
    "Name": lambda r: r["name"],
    "Learner": lambda r: r["learner"],
    "Architecture": lambda r: r["architecture"],
    "Status": lambda r: status_label(r["status"]),
    "Test accuracy (%)": lambda r: None if r["score"] is None else round(100 * r["score"], 2),
    "Test accuracy": lambda r: percent(r["score"]),
    "Test MAE": lambda r: _rounded(r["test_mae"], 4),
    "Test loss": lambda r: _rounded(r["test_loss"], 4),
    "Params": lambda r: r["params"],
    "Training time (s)": lambda r: _rounded(r["train_seconds"], 1),
    "Epochs": lambda r: r["epochs"],
    "Time to target": lambda r: reached_text(r.get("target_reached")) or "—",
    "Cloned from": lambda r: r["parent_id"],
}
RUN_COLUMNS = [
    "Run",
    "Name",
    "Status",
    "Test accuracy (%)",
    "Test MAE",
    "Test loss",
    "Params",
    "Training time (s)",
    "Epochs",
    "Time to target",
    "Cloned from",
]


def leaderboard_frame(rows: list[dict], columns=RUN_COLUMNS) -> pd.DataFrame:
    """The rows in these columns. Test MAE only when a run has one; test accuracy not when only
    regressions (which have none) are on the board; the time to a target only when a run reached one."""
    columns = list(columns)
    if "Time to target" in columns and not any(r.get("target_reached") for r in rows):
        columns.remove("Time to target")
    if "Test MAE" in columns and all(r["test_mae"] is None for r in rows):
        columns.remove("Test MAE")
    elif "Test MAE" in columns and all(r["score"] is None for r in rows):
        columns = [c for c in columns if c != "Test accuracy (%)"]
    return pd.DataFrame([{c: COLUMNS[c](r) for c in columns} for r in rows], columns=columns)
