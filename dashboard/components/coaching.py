"""Coaching under a run's history chart: the chart with its findings marked, then what they mean."""

from __future__ import annotations

import streamlit as st

from core.insight.coaching import MIN_EPOCHS, augmentation_finding, coach_run
from dashboard import session
from dashboard.components.history_chart import history_chart

ICONS = {
    "overfitting": ":material/trending_up:",
    "flat": ":material/trending_flat:",
    "diverging": ":material/warning:",
    "chance": ":material/casino:",
    "good": ":material/check_circle:",
    "augmentation": ":material/flip:",
}


def show_findings(findings) -> None:
    if not findings:
        st.caption(f"Coaching on the curves appears once the run has {MIN_EPOCHS} epochs.")
        return
    for finding in findings:
        show = st.warning if finding.is_problem else st.success
        show(f"**{finding.title}.** {finding.statement}  \n**Try:** {finding.suggestion}", icon=ICONS.get(finding.kind))


def augmentation_note(run) -> None:
    """What augmentation did to the train/validation gap, against the user's run of the model without it."""
    finding = augmentation_finding(run, session.own_runs())
    if finding is not None:
        st.info(
            f"**{finding.title}.** {finding.statement}  \n**Try:** {finding.suggestion}", icon=ICONS["augmentation"]
        )


def coached_history(run, key: str) -> None:
    """The run's accuracy and loss chart, marked where the coaching points, and the findings below it."""
    findings = coach_run(run)
    history_chart(run, key=key, findings=findings)
    if run.epoch_history() or run.batch_history():
        show_findings(findings)
        augmentation_note(run)
