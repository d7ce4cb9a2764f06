"""Names people gave things (class folders, columns) kept whole and distinct, and shortened only for showing.

A class is its folder's full name, so two long folders that differ late stay two classes;
:func:`display_names` shortens names for a chart's axis and keeps the shortened names distinct too.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

DISPLAY_LIMIT = 40  # characters a name may take on a chart's axis or in a legend
ELLIPSIS = "…"


def class_name(folder: str) -> str:
    """A class folder's name as the class's name: whole, in one Unicode form (a Mac's zip spells "é" as
    two characters, other zips as one: the same folder), control characters written out so that two
    folders differing only in them stay apart."""
    name = unicodedata.normalize("NFC", folder)
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in name)


def short_name(name: str, limit: int = DISPLAY_LIMIT) -> str:
    """``name`` if it fits in ``limit`` characters, else its start and end around an ellipsis (long names
    often differ at their end: "holiday photos 2023 beach" and "... mountains")."""
    if len(name) <= limit:
        return name
    tail = max(1, limit // 3)
    return name[: limit - tail - len(ELLIPSIS)] + ELLIPSIS + name[-tail:]


def display_names(names, limit: int = DISPLAY_LIMIT) -> list[str]:
    """Each name shortened to ``limit`` characters for showing, all different from one another: names whose
    short forms would be the same are numbered ("… (1)", "… (2)") in their order."""
    names = list(names)
    shortened = [short_name(str(name), limit) for name in names]
    clashes = Counter(shortened)
    shown: list[str] = []
    taken: set[str] = set()
    for name, short in zip(names, shortened, strict=True):
        candidate, number = short, 0
        while candidate in taken or (clashes[short] > 1 and number == 0):
            number += 1
            suffix = f" ({number})"
            candidate = short_name(str(name), max(limit - len(suffix), 2)) + suffix
        taken.add(candidate)
        shown.append(candidate)
    return shown
