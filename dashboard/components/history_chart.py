"""A run's accuracy and loss curves, batch by batch and epoch by epoch."""

from __future__ import annotations

import streamlit as st

from core.runs.record import Run
from dashboard.charts import training as charts


def history_chart(run: Run, key: str, findings=()) -> None:
    """The run's accuracy and loss; coaching findings (core.insight.coaching) are marked at their epoch."""
    batches = run.batch_history()
    epochs = run.epoch_history()
    if not batches and not epochs:
        st.caption("The chart appears with the first batch.")
        return
    per = run.batches_per_epoch or max((b["step"] for b in batches), default=1)
    figure = charts.mark_findings(charts.training_chart(batches, epochs, per), findings)
    st.plotly_chart(figure, key=key, width="stretch")
