"""This browser's user's runs, read and controlled in their name: the run manager checks ownership
(another user's run is simply not found), the session only says who is asking."""

from __future__ import annotations

from .identity import user_id
from .services import manager


def own_run(run_id: str):
    """The user's run, or None (also for someone else's run or a malformed id)."""
    return manager().get(run_id, user_id())


def own_active_run():
    """The user's run training or waiting now, if any (the manager decides what is the user's)."""
    return manager().active_run(user_id())


def own_runs() -> list:
    """The user's runs, newest first."""
    return manager().list(user_id())


def stop_run(run_id: str) -> bool:
    return manager().stop(run_id, user_id())


def toggle_pause(run_id: str) -> None:
    """Pause the user's training run after its current batch, or resume it when it is paused."""
    run = own_run(run_id)
    if run is not None and run.pause_requested:
        manager().resume(run_id, user_id())
    else:
        manager().pause(run_id, user_id())


def train_more(run_id: str, extra_epochs: int):
    """Continue the user's ended run; RunRejected says why it cannot."""
    return manager().continue_run(run_id, extra_epochs, user_id())


def delete_run(run_id: str) -> bool:
    """Delete the user's ended run; RunRejected when it is still training."""
    return manager().delete(run_id, user_id())
