"""Small helpers shared by the test modules."""

import re
import time
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

import core.runs.manager

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


def wait_for(condition, timeout: float = 60.0, interval: float = 0.02) -> None:
    """Poll until condition() is true; fail the test after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(interval)


def rerun(at):
    """One AppTest script run, failing the test on any exception the page raised."""
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at, page: str):
    """Switch the AppTest session to dashboard/views/<page>.py and run it."""
    at.switch_page(f"views/{page}.py")
    return rerun(at)


# --- AppTest pages -------------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TIMEOUT = 60


class _MarkdownTable:
    """A Markdown table's rows as a DataFrame (empty when the Markdown is not a table)."""

    def __init__(self, markdown):
        lines = [line.strip() for line in markdown.value.splitlines() if line.strip().startswith("|")]
        rows = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
        self.value = pd.DataFrame(rows[2:], columns=rows[0]) if len(rows) >= 2 else pd.DataFrame()


def table_with(at: AppTest, column: str):
    """The first table on the page that has this column (AppTest does not expose dataframe keys): data
    grids (st.dataframe), static tables (st.table) and Markdown tables (the model summaries) alike."""
    for frame in [*at.table, *at.dataframe, *map(_MarkdownTable, at.markdown)]:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def shape_rows(at: AppTest) -> list[str]:
    return list(table_with(at, "Output shape")["Layer (type)"])


def use_shapes(at: AppTest) -> None:
    at.switch_page("views/data.py")
    rerun(at)
    at.selectbox(key="dataset_choice").select("shapes")
    rerun(at)


def wait_until_ended(at: AppTest, run_id: str, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rerun(at)  # AppTest does not fire run_every: poll by hand
        run = core.runs.manager.default_manager().get(run_id)
        if not run.active:
            break
        time.sleep(0.5)
    rerun(at)
    return run
