"""Text people type: names made safe to store and show, Markdown that shows them literally, strict numbers;
and text written for terminals (Keras' coloured errors) made plain for people.

The bottom layer (no imports from the rest of core): every entry point that takes a name (a learner's,
a run's, a challenge's title, an experiment's, an imported data set's and its classes) cleans it with
``clean_name``; everything that writes Markdown around a name escapes it with ``markdown_literal``.
"""

from __future__ import annotations

import re
import unicodedata

# The longest name of each kind, in characters (code points) after cleaning.
LEARNER_NAME_CHARS = 40
RUN_NAME_CHARS = 120
CHALLENGE_TITLE_CHARS = 80
EXPERIMENT_NAME_CHARS = 120
DATASET_TITLE_CHARS = 60
# Class names stay whole enough to stay distinct (two folders that differ late are two classes); charts
# shorten them for show (core.data.names.display_names).
CLASS_NAME_CHARS = 200

# Control, format (zero-width, right-to-left overrides), private-use, surrogate and unassigned
# characters: invisible, or shown differently by each font and browser, so a name could pass for another.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}
_COMBINING = {"Mn", "Me"}
MAX_COMBINING_MARKS = 4  # per letter: enough for any script's accents, not a tower of them over the line
# Letters that draw nothing (Hangul fillers, the blank Braille pattern): a name of only these looks empty.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)  # 18 digits: always an int64, never int()'s digit limit
# Markdown's active characters (CommonMark, GitHub's tables, strikethrough and autolinks, Streamlit's
# :icon:/:red[...] directives and $math$), backslash-escaped only where they could act, so prose reads the
# same in a Markdown file and a message keeps its words: always \ ` * [ ] < > | ~ $ & { }; "_" and "-"
# unless between two letters or digits ("price_k_eur", "T-shirt"); ":" unless a space or the end follows
# (":red[" is broken, "Note: it ends." is not); and at the start, what would begin a heading, a list or a
# setext line ("# ", "+ ", "1. ", "1) ", "==="). "bad.csv" stays as it is.
_MARKDOWN_ACTIVE = re.compile(r"""[\\`*\[\]<>|~$&{}]|(?<![^\W_])[_-]|[_-](?![^\W_])|:(?=\S)""")
_BLOCK_START = re.compile(r"^(\d{1,9}(?=[.)])|)([.)#+](?=\s|$)|=(?==*$))")
# GitHub's autolinks (http://, www., e-mail addresses) and Streamlit's :emoji: and :material/icon: shortcodes
# are found in the text after escapes are read, so a backslash cannot stop them: an invisible word joiner
# after "http", "www", "@" or a ":" that starts a shortcode does, and the text still reads the same.
_AFTER_WORD_JOINER = re.compile(r"(?i)(?<![^\W_])(?:https?|ftp|www)(?=\\?[:.])|@|:(?=[\w+-])")
WORD_JOINER = "\u2060"


def clean_name(text: object, limit: int | None) -> str:
    """A name as it is stored and shown: NFKC-normalised, with invisible and control characters dropped,
    whitespace (newlines too) collapsed to single spaces, trimmed, and cut to ``limit`` characters.

    Args:
        text: what the user typed; anything that is not a string becomes "".
        limit: the most characters kept (None: no cut, for callers that refuse a long name instead).
    """
    if not isinstance(text, str):
        return ""
    # Lone surrogates (from JSON "\\ud800") cannot be normalised: drop them first.
    text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
    text = unicodedata.normalize("NFKC", text)
    kept, marks = [], 0
    for ch in text:
        if ch.isspace():
            kept.append(" ")  # tabs, newlines, line separators: a space, not glued words
            marks = 0
            continue
        category = unicodedata.category(ch)
        if category in _DROPPED_CATEGORIES or ch in _BLANK_LETTERS:
            continue
        marks = marks + 1 if category in _COMBINING else 0
        if marks <= MAX_COMBINING_MARKS:
            kept.append(ch)
    text = " ".join("".join(kept).split())
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip()
    return text


def unique_names(names, limit: int) -> tuple[str, ...]:
    """Each name cleaned (``clean_name``); names that end up the same, or empty, get " (2)", " (3)"...
    so a list of classes keeps one distinct name per class."""
    result: list[str] = []
    taken: set[str] = set()
    for index, name in enumerate(names):
        name = clean_name(name, limit) or f"class {index}"
        candidate, count = name, 1
        while candidate.casefold() in taken:
            count += 1
            suffix = f" ({count})"
            candidate = name[: max(1, limit - len(suffix))].rstrip() + suffix
        taken.add(candidate.casefold())
        result.append(candidate)
    return tuple(result)


def markdown_literal(text: object) -> str:
    """``text`` escaped so Markdown shows it as typed: each active character backslash-escaped, line
    breaks made spaces. Raw HTML such as ``<img ...>`` then shows as text too, because ``<`` is escaped.

    For Streamlit's st.markdown, captions, messages and widget labels, and for Markdown files (the model card).
    """
    text = " ".join(str(text).split())
    text = _AFTER_WORD_JOINER.sub(lambda m: m.group(0) + WORD_JOINER, text)
    text = _MARKDOWN_ACTIVE.sub(lambda m: "\\" + m.group(0), text)
    return _BLOCK_START.sub(r"\1\\\2", text)


def ascii_whole_number(text: object) -> int | None:
    """``text`` as a whole number when it is only ASCII digits 0-9 (at most 18 of them), else None.

    ``str.isdigit`` accepts superscripts (``"²"``) and other scripts' digits that ``int`` then refuses
    or reads differently; text from a cookie, a URL or a file is checked with this instead.
    """
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)


# Keras colours some error text for terminals (ANSI escape codes: colours, bold, cursor moves).
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """Keras colours some error text for terminals; users see it without the escape codes."""
    return _ANSI_ESCAPE.sub("", text)


def size_text(size_bytes: int) -> str:
    """A file's size as people read it: "12 KB", "3.4 MB" (1 KB = 1,024 bytes, as file managers count)."""
    return f"{size_bytes / 1024:,.0f} KB" if size_bytes < 1024**2 else f"{size_bytes / 1024**2:,.1f} MB"
