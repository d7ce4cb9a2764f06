"""A race to a target accuracy: when a run's validation accuracy first reached it, and that in words.

Pure Python (no TensorFlow): the trainer records it in the run's results, and Results and the classroom
leaderboard show it.
"""

from __future__ import annotations

import math

from core.timing import format_duration


def target_reached(epochs: list[dict], target: float | None) -> dict | None:
    """The first epoch whose validation accuracy is at least ``target``, with the training time up to
    its end (the trainer's per-epoch seconds, validation included, as the app shows them); None when no
    epoch reached it (or there is no target).

    Returns {"target", "epoch", "seconds", "val_accuracy"}.
    """
    if target is None:
        return None
    seconds = 0.0
    for number, epoch in enumerate(epochs, start=1):
        seconds += float(epoch.get("seconds") or 0.0)
        value = epoch.get("val_accuracy")
        if isinstance(value, (int, float)) and math.isfinite(value) and value >= target:
            return {
                "target": float(target),
                "epoch": int(epoch.get("epoch", number)),
                "seconds": round(seconds, 2),
                "val_accuracy": float(value),
            }
    return None


def format_target(target: float) -> str:
    """90 %, 92.5 %: a target share as the pages write it (no trailing zeros)."""
    return f"{100 * target:.1f}".rstrip("0").rstrip(".") + " %"


def reached_text(reached: dict | None) -> str:
    """'reached 90 % in 41 s' (the leaderboard's and Results' words), or '' when not reached."""
    if not reached:
        return ""
    return f"reached {format_target(reached['target'])} in {format_duration(reached['seconds'], clock=False)}"


def reached_message(reached: dict) -> str:
    """The run's ending message when it stopped at its target."""
    return (
        f"Reached the target: validation accuracy {100 * reached['val_accuracy']:.1f} % ≥ "
        f"{format_target(reached['target'])} after epoch {reached['epoch']} "
        f"({format_duration(reached['seconds'], clock=False)} of training), so the run stopped there."
    )
