"""Plotly figures from plain values. No Streamlit here: unit-testable functions."""
