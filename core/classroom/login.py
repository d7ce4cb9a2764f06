"""The teacher's login: the password checked in constant time, slowed down after failures, and remembered
by a signed, expiring token (never the password) that every change of the classroom is asked for."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from pathlib import Path

from core.text import ascii_whole_number


def check_teacher_password(given: str, configured: str) -> bool:
    """Constant-time comparison; with no password configured, nobody is a teacher."""
    return bool(configured) and hmac.compare_digest(
        given.encode(errors="surrogatepass"), configured.encode(errors="surrogatepass")
    )


_SIGNATURE = re.compile(r"[0-9a-f]{64}", re.ASCII)  # a SHA-256 HMAC in hex; compare_digest refuses non-ASCII text
TOKEN_SECONDS = 12 * 3600  # a teacher's login lasts a school day
SERVER_KEY = "*"  # the throttle's key for all sessions of the server together


class LoginThrottle:
    """Wrong passwords make the next try wait: after ``free`` failures for a key (a browser session,
    or the whole server with its own larger allowance), each further failure doubles the wait, up to
    ``longest`` seconds. A right password clears its session's count, not the server's.
    """

    def __init__(self, free: int = 3, server_free: int = 20, first_wait: float = 2.0, longest: float = 300.0):
        self.free, self.server_free = free, server_free
        self.first_wait, self.longest = first_wait, longest
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last)
        self._lock = threading.Lock()

    def _wait(self, key: str, free: int, now: float) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < free:
            return 0.0
        wait = min(self.first_wait * 2 ** (count - free), self.longest)
        return max(0.0, last + wait - now)

    def seconds_to_wait(self, session: str, now: float | None = None) -> float:
        """How long this session must wait before its next try (0: it may try now)."""
        now = time.time() if now is None else now
        with self._lock:
            return max(self._wait(session, self.free, now), self._wait(SERVER_KEY, self.server_free, now))

    def failed(self, session: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for key in (session, SERVER_KEY):
                count, _ = self._failures.get(key, (0, 0.0))
                self._failures[key] = (count + 1, now)

    def succeeded(self, session: str) -> None:
        with self._lock:
            self._failures.pop(session, None)


_PROCESS_SECRET = secrets.token_bytes(32)


def server_secret(home: Path) -> bytes:
    """This server's signing key: CNN_PLAYGROUND_SECRET, else a random key kept in the store's home
    (readable by the server's user only), made on first use."""
    configured = os.environ.get("CNN_PLAYGROUND_SECRET", "")
    if configured:
        return configured.encode()
    path = Path(home) / "secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
    except OSError:  # a read-only or full disk: a key for this process only (logins last until a restart)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return _PROCESS_SECRET
    try:
        os.link(tmp, path)  # the first server to write it wins; everyone then reads the same key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def _token_signature(secret: bytes, password: str, expires: int) -> str:
    # The password is part of the key: changing it logs every teacher out.
    key = hmac.new(secret, password.encode(), hashlib.sha256).digest()
    return hmac.new(key, f"teacher:{expires}".encode(), hashlib.sha256).hexdigest()


def make_teacher_token(secret: bytes, password: str, now: float | None = None, seconds: int = TOKEN_SECONDS) -> str:
    """A token that proves a teacher logged in, until it expires: ``expiry.signature``."""
    expires = int((time.time() if now is None else now) + seconds)
    return f"{expires}.{_token_signature(secret, password, expires)}"


def check_teacher_token(token: str, secret: bytes, password: str, now: float | None = None) -> bool:
    """True for an unexpired token made with this server's secret and the current password."""
    if not password or not isinstance(token, str) or token.count(".") != 1:
        return False
    text, signature = token.split(".")
    expires = ascii_whole_number(text)  # a cookie is anyone's text: "¹⁷⁹⁹" passes isdigit() but not int()
    if expires is None or expires < (time.time() if now is None else now):
        return False
    if not _SIGNATURE.fullmatch(signature):
        return False
    return hmac.compare_digest(signature, _token_signature(secret, password, expires))
