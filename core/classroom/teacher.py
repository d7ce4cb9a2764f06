"""The teacher-only service: every change of the classroom goes through ``Classroom`` and takes the
teacher's token, as the run manager's methods take a run's owner.

A challenge created, edited, closed or reopened, its leaderboard reset, deleted or imported from another
server, and a class's results exported: each is refused here (``NotTeacher``, nothing changed or read)
unless the token is an unexpired one this server signed with its current teacher password
(``core.classroom.login``). Pages may hide the teacher's controls from others, but this is the guard.

Reading one challenge by its code needs no token (a learner's link, the Projector's board: that is
``ChallengeStore.get``), nor does the leaderboard. The speed measurement for a challenge's expected time
is an ordinary job of the run manager (``RunManager.start_job``), owned, queued and limited like a
learner's run, so it is not a teacher's privilege either.
"""

from __future__ import annotations

import math
from functools import cached_property

from core.classroom.challenge_import import import_challenge
from core.classroom.challenges import ChallengeRejected, create_challenge, edit_problems
from core.classroom.class_results import class_results_csv, class_results_zip
from core.classroom.login import (
    LoginThrottle,
    check_teacher_password,
    check_teacher_token,
    make_teacher_token,
    server_secret,
)
from core.disk import DISK_FAILING, disk_problem
from core.runs.challenges import Challenge, ChallengeStore
from core.runs.manager import RunManager
from core.runs.record import Run
from core.runs.store import StoreError
from core.training.hyperparams import Hyperparameters

NOT_TEACHER = "Only a logged-in teacher can change the classroom: log in again on the Teacher page."
CLASSROOM_OFF = "Classroom mode is off on this server: nobody can change its challenges."


class NotTeacher(Exception):
    """Asked without a valid teacher token (none, a learner's, expired, or from before the password
    changed), or a login refused; ``str()`` says so in plain words. Nothing was changed."""


class Classroom:
    """One server's classroom, for its teacher.

    Args:
        manager: the server's run manager (its store keeps the challenges; its runs fill the exports).
        password: the configured teacher password; empty, classroom mode is off and nobody is a teacher.
        throttle: counts wrong passwords (one per server process, shared by every session).
        secret: the key tokens are signed with; by default the server's (``login.server_secret``).
    """

    def __init__(
        self,
        manager: RunManager,
        password: str,
        *,
        throttle: LoginThrottle | None = None,
        secret: bytes | None = None,
    ):
        self.manager = manager
        self.password = password
        self.throttle = throttle if throttle is not None else LoginThrottle()
        self._secret = secret

    @cached_property
    def challenges(self) -> ChallengeStore:
        """Where the challenges are kept (opened on first use: checking a token needs no database)."""
        return ChallengeStore(self.manager.store)

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = server_secret(self.manager.store.home)
        return self._secret

    # --- who is the teacher -----------------------------------------------------------------------

    def log_in(self, given: str, session: str) -> str:
        """The teacher's token for the right password; ``session`` is the browser session trying, whose
        wrong tries (and the whole server's) make the next one wait. Raises NotTeacher with what to tell
        them (wrong, or wait N s)."""
        if not self.password:
            raise NotTeacher(CLASSROOM_OFF)
        wait = self.throttle.seconds_to_wait(session)
        if wait > 0:
            raise NotTeacher(f"Too many wrong passwords: wait {math.ceil(wait)} s, then try again.")
        if check_teacher_password(given, self.password):
            self.throttle.succeeded(session)
            return make_teacher_token(self.secret, self.password)
        self.throttle.failed(session)
        wait = self.throttle.seconds_to_wait(session)
        raise NotTeacher(
            "That password is not right." + (f" Wait {math.ceil(wait)} s before the next try." if wait > 0 else "")
        )

    def is_teacher(self, token: str | None) -> bool:
        """True for an unexpired token this server signed with its current password."""
        return bool(token) and check_teacher_token(token, self.secret, self.password)

    def check(self, token: str | None) -> None:
        """Raise NotTeacher unless ``token`` is a valid teacher token."""
        if not self.password:
            raise NotTeacher(CLASSROOM_OFF)
        if not self.is_teacher(token):
            raise NotTeacher(NOT_TEACHER)

    # --- the teacher's view -----------------------------------------------------------------------

    def list(self, token: str | None) -> list[Challenge]:
        """Every challenge of this server, newest first."""
        self.check(token)
        return self.challenges.list()

    # --- changes ----------------------------------------------------------------------------------

    def create(self, token: str | None, *, teacher: str, **form) -> Challenge:
        """A new challenge (``core.classroom.challenges.create_challenge``'s form); ``teacher`` is the
        teacher's user id, whose imported data sets may be used. ChallengeRejected says what to change."""
        self.check(token)
        return create_challenge(self.challenges, teacher=teacher, **form)

    def edit(
        self,
        token: str | None,
        code: str,
        *,
        title: str,
        max_params: int,
        max_epochs: int,
        hyperparameters: Hyperparameters,
        locked=(),
        hidden=(),
    ) -> Challenge | None:
        """Change a challenge's title, limits, settings and locks (its data set and hidden test set stay:
        runs on the board were trained and scored on them). None when it no longer exists;
        ChallengeRejected says what to change."""
        self.check(token)
        challenge = self.challenges.get(code)
        if challenge is None:
            return None
        problems = edit_problems(challenge, title, max_epochs, hyperparameters)
        if problems:
            raise ChallengeRejected(problems)
        return self._saving(
            self.challenges.update,
            code,
            title=title.strip(),
            max_params=int(max_params),
            max_epochs=int(max_epochs),
            hyperparameters=hyperparameters,
            locked=tuple(c for c in locked if c not in hidden),
            hidden=tuple(hidden),
        )

    def set_closed(self, token: str | None, code: str, closed: bool) -> Challenge | None:
        """Close a challenge (it takes no new runs; its leaderboard stays) or reopen it."""
        self.check(token)
        return self._saving(self.challenges.update, code, closed=bool(closed))

    def reset_leaderboard(self, token: str | None, code: str) -> Challenge | None:
        """Start the leaderboard afresh: earlier runs stay stored for the learners but no longer count."""
        self.check(token)
        return self._saving(self.challenges.reset, code)

    def delete(self, token: str | None, code: str) -> bool:
        """Delete the challenge and its hidden test set; the learners keep their runs."""
        self.check(token)
        return self._saving(self.challenges.delete, code)

    def import_challenge(self, token: str | None, source, *, teacher: str) -> Challenge:
        """A new challenge from another server's class results zip; ChallengeRejected says why not."""
        self.check(token)
        return self._saving(import_challenge, source, self.challenges, teacher=teacher)

    # --- a class's results ------------------------------------------------------------------------

    def class_runs(self, token: str | None, code: str) -> tuple[Challenge, list[Run]] | None:
        """The challenge and every run trained for it, whoever's, or None when it no longer exists."""
        self.check(token)
        challenge = self.challenges.get(code)
        return None if challenge is None else (challenge, self.manager.classroom_runs(code))

    def class_results_csv(self, token: str | None, code: str) -> str | None:
        """The leaderboard as CSV (``class_results.class_results_csv``), or None for no such challenge."""
        found = self.class_runs(token, code)
        return None if found is None else class_results_csv(found[1], found[0])

    def class_results_zip(self, token: str | None, code: str) -> bytes | None:
        """The class's results as a zip (``class_results.class_results_zip``), or None for no such challenge."""
        found = self.class_runs(token, code)
        return None if found is None else class_results_zip(self.manager.store, found[0], found[1])

    @staticmethod
    def _saving(action, *args, **kwargs):
        """``action``, with a store that cannot take it (read-only, full, damaged) in plain words."""
        try:
            return action(*args, **kwargs)
        except StoreError as error:
            raise ChallengeRejected([error.public]) from None
        except OSError as error:  # a data set or hidden test set written beside the store
            raise ChallengeRejected([disk_problem(error) or DISK_FAILING]) from None
