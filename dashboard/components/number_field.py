"""A number field that shows exactly the value the app will use.

Streamlit's number input with bounds keeps an out-of-range entry in the field in red while the app goes on
with the previous value, and an int field reads "1e6" as 1. These fields have no bounds and take any
number (read as a float, so "1e6" is a million); the value goes to the settings as typed, and core's checks
(``Hyperparameters.problems()``, the layer registry) refuse it in words beside the button it blocks.
"""

from __future__ import annotations

import streamlit as st

from core.numbers import as_typed


def number_field(label: str, value, *, key: str, step: float = 1.0, **kwargs):
    """A bound-less number input showing ``value`` as %g (0.0005, 32, 1e+06: never rounded away).

    ``kwargs`` go to ``st.number_input`` (on_change, args, disabled, help). Returns the value as typed:
    a whole number as an int.
    """
    shown = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    return as_typed(st.number_input(label, value=shown, step=float(step), format="%g", key=key, **kwargs))
