"""Two models' layers aligned side by side: which layers were added, removed or changed, and what that did
to each layer's output shape and parameter count. Pure Python (difflib), no Keras.

Layers are aligned with :class:`difflib.SequenceMatcher`, the longest matching runs first, so inserting a
Dropout shows as one added row and every layer below it still pairs with its counterpart; two paired
layers of one type whose settings differ are "changed".

An Add or Concatenate names its earlier layer by number (``with``), and a layer inserted above renumbers it
without changing what it does. So merges are compared by what they are wired to: two paired merges are the
same when the layers they take are paired with each other (or both are the input), whatever their numbers.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from core.insight.compare import format_value
from core.model.diagram import shape_text as _shape_text
from core.model.spec import LAYER_TYPES, analyze, merge_number

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"


@dataclass(frozen=True)
class LayerSide:
    """One layer of one model: where it is, what it is and what it produces."""

    index: int  # 0-based position in the spec
    name: str
    type: str
    settings: dict  # every setting, defaults filled in
    output_shape: tuple | None
    params: int | None
    takes: int | None = None  # a merge's earlier layer (1-based number; 0: the input); compared by wiring

    def settings_text(self) -> str:
        return ", ".join(f"{k} {format_value(v)}" for k, v in self.settings.items())


@dataclass(frozen=True)
class LayerDiff:
    status: str  # same, changed, added, removed
    left: LayerSide | None
    right: LayerSide | None
    changed_settings: tuple[str, ...] = ()  # e.g. ("kernel_size: 3×3 → 5×5",)

    @property
    def params_change(self) -> int:
        """Right minus left (an added layer: all its params; a removed one: minus all of them)."""
        left = (self.left.params or 0) if self.left else 0
        right = (self.right.params or 0) if self.right else 0
        return right - left

    @property
    def shape_changed(self) -> bool:
        return self.left is None or self.right is None or self.left.output_shape != self.right.output_shape


def _settings(layer: dict) -> dict:
    """The layer's settings with Keras' defaults filled in, so "left out" equals "set to the default"."""
    info = LAYER_TYPES.get(layer.get("type"))
    defaults = info.defaults() if info else {}
    merged = {**defaults, **{k: v for k, v in layer.items() if k != "type"}}
    for key, value in merged.items():
        arg = info.arg(key) if info else None
        if arg is not None and arg.kind == "pair" and value is not None and not isinstance(value, (list, tuple)):
            merged[key] = [value, value]
        elif isinstance(value, tuple):
            merged[key] = list(value)
    return merged


def layer_sides(spec: dict) -> list[LayerSide]:
    analysis = analyze(spec)
    sides = []
    for report, layer in zip(analysis.layers, spec.get("layers") or []):
        settings, takes = _settings(layer), merge_number(layer)
        if takes is not None:
            del settings["with"]  # a number that shifts with the layers above: compared as wiring instead
        sides.append(
            LayerSide(report.index, report.name, report.type, settings, report.output_shape, report.params, takes)
        )
    return sides


def _changes(left: LayerSide, right: LayerSide) -> tuple[str, ...]:
    keys = list(dict.fromkeys([*left.settings, *right.settings]))
    return tuple(
        f"{key}: {format_value(left.settings.get(key))} → {format_value(right.settings.get(key))}"
        for key in keys
        if left.settings.get(key) != right.settings.get(key)
    )


def _signature(side: LayerSide) -> str:
    """Type, settings and output shape: of two identical pooling layers, the one at the same size pairs."""
    return json.dumps([side.type, side.settings, side.output_shape], sort_keys=True, default=str)


def _pair_by_type(left: list[LayerSide], right: list[LayerSide]) -> list[LayerDiff]:
    """Within a stretch that differs: same-type layers pair up as changed, the rest are removed or added."""
    rows: list[LayerDiff] = []
    matcher = difflib.SequenceMatcher(a=[s.type for s in left], b=[s.type for s in right], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            for a, b in zip(left[a0:a1], right[b0:b1]):
                changes = _changes(a, b)  # none: only the shape differs, from a change above
                rows.append(LayerDiff(CHANGED if changes else SAME, a, b, changes))
            continue
        rows.extend(LayerDiff(REMOVED, a, None) for a in left[a0:a1])
        rows.extend(LayerDiff(ADDED, None, b) for b in right[b0:b1])
    return rows


def diff_architectures(left_spec: dict, right_spec: dict) -> list[LayerDiff]:
    """The two specs' layers aligned, in order; every layer of each appears exactly once.

    Two passes, as difflib's own ndiff does: identical layers (type, every setting and output shape) are
    aligned first, the longest runs first; in each stretch between them, layers of the same type pair up as
    changed. Then each paired merge is checked for what it takes (:func:`_rewired`).
    """
    left, right = layer_sides(left_spec), layer_sides(right_spec)
    matcher = difflib.SequenceMatcher(a=[_signature(s) for s in left], b=[_signature(s) for s in right], autojunk=False)
    rows: list[LayerDiff] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(LayerDiff(SAME, a, b) for a, b in zip(left[a0:a1], right[b0:b1]))
        else:
            rows.extend(_pair_by_type(left[a0:a1], right[b0:b1]))
    return _rewired(rows, left, right)


def _source_words(number: int, sides: list[LayerSide]) -> str:
    if number == 0:
        return "the input"
    if number <= len(sides):
        return f"layer {number} ({sides[number - 1].name})"
    return f"layer {number}"


def _rewired(rows: list[LayerDiff], left: list[LayerSide], right: list[LayerSide]) -> list[LayerDiff]:
    """Each paired merge whose earlier layer is not the counterpart of the other's becomes "changed", saying
    which layer each takes; one that takes the same layer under a new number stays as it was."""
    paired = {r.left.index + 1: r.right.index + 1 for r in rows if r.left and r.right}
    paired[0] = 0
    result = []
    for row in rows:
        a, b = row.left, row.right
        if a is None or b is None or a.takes is None or b.takes is None or paired.get(a.takes) == b.takes:
            result.append(row)
            continue
        wiring = f"merges with: {_source_words(a.takes, left)} → {_source_words(b.takes, right)}"
        result.append(LayerDiff(CHANGED, a, b, (*row.changed_settings, wiring)))
    return result


def shape_text(side: LayerSide | None) -> str:
    if side is None:
        return ""
    return _shape_text(side.output_shape)


def summary(rows: list[LayerDiff]) -> dict:
    """How many layers were added, removed and changed, and the total change in parameters."""
    counts = {status: sum(1 for r in rows if r.status == status) for status in (ADDED, REMOVED, CHANGED, SAME)}
    return {**counts, "params_change": sum(r.params_change for r in rows)}
