"""Regression runs on the pages: test MAE/RMSE/R², predicted vs actual, residuals — and a plain word on
the pages that only apply to image classification."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.insight.mistakes import PredictionsUnavailable, largest_errors
from core.runs.store import load_regression_predictions
from dashboard import session
from dashboard.charts import regression as regression_charts
from dashboard.components.labels import number
from dashboard.components.user_text import markdown_literal

WORST_ROWS = 10


def test_metrics(columns, results: dict) -> None:
    """Test MAE, RMSE and R² in three metric columns."""
    unit = f" (in {markdown_literal(results.get('target_name'))})" if results.get("target_name") else ""
    mae_col, rmse_col, r2_col = columns
    mae_col.metric(
        "Test MAE",
        number(results.get("test_mae")),
        help=f"Mean absolute error{unit}: on average, the prediction is this far from the true value.",
    )
    rmse_col.metric(
        "Test RMSE",
        number(results.get("test_rmse")),
        help=f"Root mean squared error{unit}: like the MAE, but big mistakes weigh more.",
    )
    r2 = results.get("test_r2")
    r2_col.metric(
        "R²",
        "—" if r2 is None else f"{r2:.3f}",
        help="The share of the target's variation the network explains: 1 is perfect, 0 is no better "
        "than always predicting the average, below 0 is worse than that.",
    )


def results_section(run, results: dict) -> None:
    """Predicted against actual, the errors, and the test rows with the largest errors."""
    target = results.get("target_name") or "target"
    try:
        predicted, y_true = load_regression_predictions(session.manager().store, run.id)
    except PredictionsUnavailable as error:
        st.info(markdown_literal(error))
        return
    scatter_col, residual_col = st.columns(2, gap="large")
    with scatter_col:
        st.header("Predicted against actual")
        st.plotly_chart(
            regression_charts.predicted_vs_actual_figure(y_true, predicted, target), key="regression_scatter"
        )
        st.caption(
            "One dot per test row. Dots on the dashed diagonal are perfect predictions; the further a dot "
            "is from it, the bigger that prediction's error."
        )
    with residual_col:
        st.header("The errors (residuals)")
        st.plotly_chart(regression_charts.residuals_figure(y_true, predicted, target), key="regression_residuals")
        st.caption(
            "Each test row's error: above 0 the network predicted too much, below 0 too little. An even band "
            "around 0 is good; a curve or a funnel shape means the network misses a pattern in the data."
        )
    st.header("The test rows with the largest errors")
    worst = largest_errors(y_true, predicted, WORST_ROWS)
    table = pd.DataFrame(
        {
            "Test row": worst,
            f"Actual {target}": y_true[worst],
            f"Predicted {target}": predicted[worst],
            "Error": (predicted - y_true)[worst],
        }
    )
    st.dataframe(table.round(_decimals(y_true)), hide_index=True, key="regression_worst")


def _decimals(values: np.ndarray) -> int:
    """Enough decimals for about four significant digits of the target's typical size."""
    size = float(np.max(np.abs(values))) if len(values) else 0.0
    return max(0, 3 - int(np.floor(np.log10(size)))) if size > 0 else 3


def not_for_regression(run, what: str) -> bool:
    """True (and says so plainly) when ``run`` is a regression, which ``what`` (a page's purpose) cannot show."""
    if not run.task.is_regression:
        return False
    st.info(
        f"{what} works on networks that classify images. This run predicts a number from the rows of a "
        "table: see its predicted-against-actual chart and its errors on **Results**.",
        icon=":material/table_chart:",
    )
    st.page_link("views/results.py", label="Open Results", icon=":material/insights:")
    return True
