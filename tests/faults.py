"""Real disk faults for tests: a small tmpfs that is filled up or remounted read-only, and damaged files.

Mounting needs root (or CAP_SYS_ADMIN), which the development machine and CI have; ``can_mount()`` says
whether this machine allows it, for tests that then fall back to a simulation. Every mount is undone
when its ``with`` block ends (lazily, when a connection still holds a file open).
"""

from __future__ import annotations

import errno
import functools
import gc
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

STORE_FILE = "runs.sqlite3"


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # a file still open: detach now


@functools.cache
def can_mount() -> bool:
    """Whether this process may mount a tmpfs (and remount it read-only)."""
    if not shutil.which("mount"):
        return False
    folder = Path(tempfile.mkdtemp(prefix="mount-check-"))
    try:
        if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)):
            return False
        works = _mount("-o", "remount,ro", str(folder))
        _unmount(folder)
        return works
    finally:
        folder.rmdir()


@contextmanager
def small_disk(folder: Path, size: str = "4m"):
    """A real tmpfs of ``size`` mounted at ``folder`` for the block; unmounted afterwards, whatever happens."""
    folder.mkdir(parents=True, exist_ok=True)
    if not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)):
        raise RuntimeError(f"could not mount a tmpfs at {folder}")
    try:
        yield folder
    finally:
        _unmount(folder)


def remount(folder: Path, mode: str) -> None:
    """``mode`` "ro" or "rw": the disk at ``folder`` becomes read-only, or writable again (no file on it
    may be open for writing: close the stores on it first)."""
    gc.collect()  # connections of stores no longer used
    if not _mount("-o", f"remount,{mode}", str(folder)):
        raise RuntimeError(f"could not remount {folder} {mode}")


def fill(folder: Path) -> Path:
    """Fill the disk holding ``folder`` up to its last byte with one file; delete the file to free it."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as handle:
        for chunk in (1 << 16, 512, 1):
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    return filler


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def overwrite_with_garbage(path: Path, keep_header: bool = False) -> None:
    """Random bytes over the whole file (or over all but SQLite's 100-byte header), same length."""
    size = path.stat().st_size
    kept = path.read_bytes()[:100] if keep_header else b""
    path.write_bytes(kept + os.urandom(size - len(kept)))
