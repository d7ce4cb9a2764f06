"""The parts of the layer registry every layer is described with: its arguments, its shape and parameter
rules, and the Keras layers a graph layer is made of. Below the registry (core.model.spec) and the layers
registered by their own module (core.model.augmentation_layers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Shape = tuple[int, ...]


class ShapeError(Exception):
    """A layer cannot be applied to the shape it receives; carries a message and its fix."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Arg:
    """One constructor argument of a layer, with what the builder needs to show a widget for it."""

    name: str
    kind: str  # "int", "pair" (int or [h, w]), "float", "choice", "bool"
    default: Any
    label: str
    help: str
    required: bool = False
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    allow_none: bool = False
    advanced: bool = False  # tucked away under "more settings" in the builder
    keras: bool = True  # a Keras constructor argument (False: read by this app, e.g. which layer a merge takes)


@dataclass(frozen=True)
class InnerLayer:
    """One Keras layer inside a graph layer (a residual block, a merge): what it is and what it makes.

    ``branch`` says which path it is on: "main" takes the previous layer's output, "shortcut" the tensor the
    shortcut starts from (a block's own input, or the earlier layer a merge names); an Add or Concatenate
    joins the two.
    """

    name: str
    type: str  # a Keras layer class: Conv2D, BatchNormalization, Activation, Add, Concatenate
    kwargs: dict  # its Keras constructor arguments (without the name)
    branch: str  # "main" or "shortcut"
    output_shape: Shape
    params: int


@dataclass(frozen=True)
class LayerType:
    name: str
    summary: str  # one plain-language sentence for non-programmers
    args: tuple[Arg, ...]
    output_shape: Callable[[Shape, dict], Shape] | None  # None for graph layers: see ``inner``
    params: Callable[[Shape, dict], int] | None
    image_only: bool = False  # only makes sense on H×W×C inputs (hidden for tabular data)
    # Graph layers (a residual block, Add, Concatenate) are several Keras layers: this gives them from the
    # input shape, the shape the shortcut starts from (a merge's earlier layer; None for a block), the
    # settings, the layer's name and the earlier layers' shapes (to name those that would fit).
    inner: Callable[..., list[InnerLayer]] | None = None
    merge: bool = False  # takes an earlier layer's output too, named by its "with" setting

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)

    def defaults(self) -> dict:
        return {a.name: a.default for a in self.args}
