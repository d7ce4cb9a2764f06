"""Quoting what a user typed inside a plain-language message: short, and never failing."""

from __future__ import annotations

BIG_NUMBER_BITS = 128  # Python refuses to print ints of more than 4,300 digits; no message needs them


def quote(value, limit: int = 60) -> str:
    """``value`` as a message shows it: numbers as they are, other things as repr, cut to ``limit`` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > BIG_NUMBER_BITS:
        return "a number with more than 38 digits"
    try:
        text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
    except (ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """'1 epoch', '2 epochs', '1,000 images': a number with its noun, singular only for exactly one."""
    return f"{number:,} {noun if number == 1 else (plural or noun + 's')}"
