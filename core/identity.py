"""A learner's anonymous identity: the random id that owns their runs and data sets, and its recovery code.

The id is a secret (whoever holds it sees and deletes that learner's runs). The recovery code is the same
secret written for people — 32 hex digits in groups of four — so typing it on another browser makes that
browser the same learner. 128 random bits cannot be guessed, and the page that takes codes slows down
wrong ones besides (dashboard/session/identity.py).
"""

from __future__ import annotations

import re
import secrets

# New ids are 32 hex digits (128 bits); browsers of earlier versions may still carry shorter ones.
_USER_ID = re.compile(r"[0-9a-f]{12,32}")
_GROUP = 4


class InvalidRecoveryCode(ValueError):
    """A typed recovery code does not have the form of one; the message says what it should look like."""


def new_user_id() -> str:
    """A new anonymous user id: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def is_user_id(value: object) -> bool:
    """Whether ``value`` has the form of a user id (12 to 32 lowercase hex digits)."""
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def recovery_code(user_id: str) -> str:
    """The id as a recovery code: groups of four hex digits joined by dashes (``1a2b-3c4d-…``)."""
    return "-".join(user_id[i : i + _GROUP] for i in range(0, len(user_id), _GROUP))


def parse_recovery_code(text: object) -> str:
    """The user id a typed recovery code stands for; InvalidRecoveryCode when it is not one.

    Spaces and dashes are ignored and capitals accepted (people copy codes in many ways); anything else
    — other letters, too short, too long — is refused before anything is looked up.
    """
    if not isinstance(text, str) or len(text) > 200:
        raise InvalidRecoveryCode("A recovery code is 32 letters and digits in groups of four, like 1a2b-3c4d-….")
    compact = re.sub(r"[\s-]+", "", text).lower()
    if not compact:
        raise InvalidRecoveryCode("Type or paste your recovery code first.")
    if re.fullmatch(r"[0-9a-f]*", compact) is None:
        raise InvalidRecoveryCode(
            "That is not a recovery code: a code has only the digits 0-9 and the letters a-f (with dashes)."
        )
    if not is_user_id(compact):
        raise InvalidRecoveryCode(
            f"That code has {len(compact)} letters and digits; a recovery code has 32 (in groups of four). "
            "Check that you copied all of it."
        )
    return compact
