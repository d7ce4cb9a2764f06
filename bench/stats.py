"""The benchmarks' one way to print a set of measurements: its median, smallest and largest."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def spread(values: Iterable[float], unit: str = "s", digits: int = 2, failed: int = 0, every: bool = False) -> str:
    """``median 1.20 s (min 0.90, max 2.10, n=5)``: the median of the values with their range and count (``none``
    without values); ``failed`` adds how many measurements did not finish, ``every`` lists all the values."""
    values = list(values)
    if not values:
        return "none" + (f" ({failed} failed)" if failed else "")
    unit = f" {unit}" if unit else ""
    parts = [f"min {min(values):.{digits}f}", f"max {max(values):.{digits}f}", f"n={len(values) + failed}"]
    if failed:
        parts.append(f"{failed} failed")
    text = f"median {statistics.median(values):.{digits}f}{unit} ({', '.join(parts)})"
    if every:
        text += f"; all: {', '.join(f'{v:.{digits}f}' for v in values)}"
    return text
