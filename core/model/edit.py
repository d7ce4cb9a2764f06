"""Edits of a spec: a new layer, a layer added, removed, moved or duplicated, one setting changed, the
spec fitted to a data set; every Add and Concatenate kept on the layer it takes.

Pure Python (no Keras, no Streamlit): the Build page's session (dashboard/session/state.py) and the
experiments' variants (core.experiments.factors) edit specs through these. An edit returns a new spec
(the one given is left as it was), except :func:`set_layer_arg`, which changes one setting in place.

A merge names its earlier layer by number (``with``: 1-based as Build shows it, 0 for the input), so an
edit that shifts layers renumbers it (:func:`repoint_merges`): it keeps taking the same layer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from core.model.layer_type import Shape
from core.model.spec import LAYER_TYPES, MERGE_TYPES, Analysis, analyze, dims_text, merge_fits, merge_number


def new_layer(kind: str) -> dict:
    """A layer of this type with sensible defaults, ready to be inserted into a spec (a merge's earlier
    layer is chosen where it is inserted: :func:`insert_layer`)."""
    layer = {"type": kind}
    layer.update({a.name: a.default for a in LAYER_TYPES[kind].args if a.default is not None})
    return layer


@dataclass(frozen=True)
class MergeSource:
    """An earlier layer a merge at some position could take, and whether its output would fit."""

    number: int  # 1-based layer number; 0 is the input
    label: str  # "Layer 3 · conv2d_1 (Conv2D) · 14×14×16"
    shape: Shape | None
    fits: bool


def merge_sources(analysis: Analysis, index: int, kind: str, projection: bool = False) -> list[MergeSource]:
    """What a merge of ``kind`` at ``index`` can take: the input and every layer above it except the one just
    above (that one is already its input), each with whether its shape would fit, nearest first."""
    main = analysis.input_shape if index == 0 else analysis.layers[index - 1].output_shape
    sources = [MergeSource(0, f"The input · {dims_text(analysis.input_shape or ())}", analysis.input_shape, False)]
    for report in analysis.layers[: max(index - 1, 0)]:
        shape_label = dims_text(report.output_shape) if report.output_shape else "shape unknown"
        sources.append(
            MergeSource(
                report.index + 1,
                f"Layer {report.index + 1} · {report.name} ({report.type}) · {shape_label}",
                report.output_shape,
                False,
            )
        )
    return [
        MergeSource(s.number, s.label, s.shape, merge_fits(kind, main, s.shape, projection)) for s in reversed(sources)
    ]


def repoint_merges(layers: list, origins: list[int | None]) -> None:
    """After an edit, make every merge take the same layer as before. ``origins[i]`` is the 0-based index
    layer i had before the edit (None: a new layer, whose ``with`` is already right). A merge whose layer was
    removed takes the nearest layer above it that is left (what fed the removed one), or the input."""
    new_number = {origin + 1: i + 1 for i, origin in enumerate(origins) if origin is not None}
    new_number[0] = 0
    for layer, origin in zip(layers, origins):
        number = merge_number(layer)
        if origin is None or number is None:
            continue
        while number not in new_number:
            number -= 1
        layer["with"] = new_number[number]


def _fitting_source(spec: dict, position: int, kind: str) -> int:
    """The nearest earlier layer a new merge at ``position`` can take with shapes that fit (else the layer
    above the one just above it, whose problem then says what would fit)."""
    analysis = analyze({**spec, "layers": spec["layers"][:position]}) if position else analyze(spec)
    sources = merge_sources(analysis, position, kind)
    return next((s.number for s in sources if s.fits), sources[0].number)


def insert_layer(spec: dict, position: int, kind: str) -> dict:
    """The spec with a new ``kind`` layer at ``position`` (0-based); merges keep their layers, and a new
    merge takes the nearest earlier layer that fits."""
    spec = copy.deepcopy(spec)
    layers = spec["layers"]
    layer = new_layer(kind)
    if kind in MERGE_TYPES:
        layer["with"] = _fitting_source(spec, position, kind)
    origins = [*range(position), None, *range(position, len(layers))]
    layers.insert(position, layer)
    repoint_merges(layers, origins)
    return spec


def remove_layer(spec: dict, index: int) -> dict:
    """The spec without layer ``index``; a merge that took it takes what fed it (the layer above, or the input)."""
    spec = copy.deepcopy(spec)
    del spec["layers"][index]
    repoint_merges(spec["layers"], [i for i in range(len(spec["layers"]) + 1) if i != index])
    return spec


def move_layer(spec: dict, index: int, offset: int) -> dict:
    """The spec with layer ``index`` moved by ``offset`` (merges follow their layers; a merge moved above the
    layer it takes gets a problem saying so)."""
    spec = copy.deepcopy(spec)
    layers, target = spec["layers"], index + offset
    if 0 <= target < len(layers):
        origins = list(range(len(layers)))
        layers[index], layers[target] = layers[target], layers[index]
        origins[index], origins[target] = origins[target], origins[index]
        repoint_merges(layers, origins)
    return spec


def duplicate_layer(spec: dict, index: int) -> dict:
    """The spec with a copy of layer ``index`` just below it; a merge's copy takes the same layer."""
    spec = copy.deepcopy(spec)
    layers = spec["layers"]
    layers.insert(index + 1, copy.deepcopy(layers[index]))
    repoint_merges(layers, [*range(index + 1), None, *range(index + 1, len(layers) - 1)])
    if merge_number(layers[index]) is not None:  # the copy takes what the original takes, renumbered with it
        layers[index + 1]["with"] = layers[index]["with"]
    return spec


def set_layer_arg(spec: dict, index: int, arg: str, value) -> None:
    """Set one setting of layer ``index`` in place; None means "Keras' default" and removes the setting
    (e.g. pooling strides = pool size)."""
    layer = spec["layers"][index]
    if value is None:
        layer.pop(arg, None)
    else:
        layer[arg] = value


def fit_to_data(spec: dict, input_shape, output_units: int | None) -> dict:
    """The spec with the data set's input shape, and its last layer's units, when it is a Dense layer, set to
    the data set's outputs (its classes, or 1 for a number to predict)."""
    spec = copy.deepcopy(spec)
    spec["input_shape"] = list(input_shape)
    layers = spec.get("layers") or []
    if layers and layers[-1].get("type") == "Dense":
        layers[-1]["units"] = output_units
    return spec
