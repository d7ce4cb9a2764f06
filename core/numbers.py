"""What counts as a number in a user's input, shared by the layer registry and the training settings.

JSON and Python both let ``True`` pass as 1 and ints grow beyond any float; a setting must be neither.
"""

from __future__ import annotations

import math


def is_whole_number(value) -> bool:
    """An int that is not True/False."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value) -> bool:
    """A real, finite number: not True/False, not NaN or infinity, not text, not an int too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def strict_json(value):
    """``value`` with NaN and infinity (a diverged loss) as None, so that it is valid JSON for every reader
    (Python's json writes them as bare NaN, which strict parsers, and the app's own door, refuse)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def as_typed(value):
    """A number as the person typed it: 32.0 from a number field is the whole number 32, 2.5 stays 2.5 (and
    is then refused, in words, where a whole number is needed), anything else is left as it is."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value
