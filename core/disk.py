"""Faults of the server's disk in plain words: the one place that turns a full, read-only or failing disk
(an OSError's errno, SQLite's error name, or the text a library wrapped them in) into a sentence a learner
can read, and that keeps server paths out of messages.
"""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

DISK_FULL = (
    "The server's disk is full, so nothing more can be saved on it. Runs saved before are kept. "
    "Train again once the server's operator has freed some space."
)
READ_ONLY = (
    "The server's storage is read-only at the moment, so no run can be trained or saved, and nothing can be "
    "deleted. Runs saved before can still be looked at."
)
DISK_FAILING = (
    "The server's disk could not be read or written (an input/output error). Runs saved before are kept; "
    "try again later, or tell the server's operator."
)

_BY_ERRNO = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EFBIG: DISK_FULL,
    errno.EROFS: READ_ONLY,
    errno.EIO: DISK_FAILING,
}
# SQLite's error names (sqlite3.Error.sqlite_errorname; extended names start with these).
_BY_SQLITE_NAME = {"SQLITE_FULL": DISK_FULL, "SQLITE_READONLY": READ_ONLY, "SQLITE_IOERR": DISK_FAILING}
# What the same faults read like once a library (Keras, h5py) has put them in its own exception's text.
_BY_TEXT = [
    (re.compile(r"no space left on device|disk (?:is )?full|disk quota exceeded|errno\s*=?\s*28\b", re.I), DISK_FULL),
    (re.compile(r"read-only file system|readonly database|errno\s*=?\s*30\b", re.I), READ_ONLY),
    (re.compile(r"disk i/o error|input/output error|errno\s*=?\s*5\b", re.I), DISK_FAILING),
]

# An absolute path with at least two parts (/srv/cnn/models/x.keras, C:\data\x): what "a file on the
# server" replaces in a message. A slash inside a word or number ("and/or", "1/2") is not a path.
_PATH = re.compile(r"(?<![\w:/\\.])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"]+[/\\])+[^\s/\\'\",;)\]]*")


# A disk with less than this free is full, whatever error it gave (SQLite reports a full disk as an I/O
# error when it cannot create its shared-memory file).
NEARLY_FULL_BYTES = 1024 * 1024


def disk_problem(error: BaseException, folder: Path | str | None = None) -> str | None:
    """The plain sentence for a disk fault behind ``error`` (full, read-only, failing), else None.

    Looks at the error and at what it was raised from (Keras and h5py wrap an OSError in their own).
    With ``folder`` (where it was writing), an input/output error on a disk that is all but full is
    reported as a full disk."""
    plain = _disk_problem(error)
    if plain == DISK_FAILING and folder is not None and free_space_problem(folder, NEARLY_FULL_BYTES):
        return DISK_FULL
    return plain


def _disk_problem(error: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "errno", None) if isinstance(current, OSError) else None
        if code in _BY_ERRNO:
            return _BY_ERRNO[code]
        name = getattr(current, "sqlite_errorname", "") or ""
        for prefix, message in _BY_SQLITE_NAME.items():
            if name.startswith(prefix):
                return message
        text = str(current)
        for pattern, message in _BY_TEXT:
            if pattern.search(text):
                return message
        current = current.__cause__ or current.__context__
    return None


def without_paths(text: str) -> str:
    """``text`` with every server path in it replaced by "a file on the server"."""
    return _PATH.sub("a file on the server", text)


NO_ROOM = (
    "The server's disk is full (or nearly): saving this run needs about {needed:.1f} MB and {free:.1f} MB is free. "
    "Runs saved before are kept. Train again once the server's operator has freed some space, or train a "
    "smaller model."
)


def free_space_problem(folder: Path | str, needed_bytes: int) -> str | None:
    """NO_ROOM, with the figures, when the disk holding ``folder`` has less than ``needed_bytes`` free; else None."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:  # a folder that cannot even be looked at is another fault, reported where it is used
        return None
    if free >= needed_bytes:
        return None
    return NO_ROOM.format(needed=needed_bytes / 1024**2, free=free / 1024**2)
