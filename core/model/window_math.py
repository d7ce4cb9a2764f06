"""The output size of a sliding window (a convolution kernel or a pooling window) along one side, with the
formula filled in and, when the numbers do not fit, why. Pure Python: the shape sandbox on Build draws it.

The rules are Keras' (and :func:`core.model.spec.analyze`'s): 'valid' uses only whole windows inside the
input; 'same' pads with zeros so the output is ceil(input / stride), the padding split with the smaller
half before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowFit:
    size: int  # the input's side
    kernel: int
    stride: int
    padding: str  # valid or same
    output: int | None  # None: the window does not fit
    pad_before: int
    pad_after: int
    formula: str  # the formula with the numbers filled in
    problem: str  # why it does not fit ("" when it does)
    note: str  # something worth knowing even when it fits (e.g. pixels that are never used)

    @property
    def fits(self) -> bool:
        return self.output is not None

    def window_starts(self) -> list[int]:
        """Where each window starts along the side (negative: in the padding)."""
        if self.output is None:
            return []
        return [i * self.stride - self.pad_before for i in range(self.output)]


def window_fit(size: int, kernel: int, stride: int, padding: str) -> WindowFit:
    """How a window of ``kernel`` cells moving ``stride`` cells at a time fits along a side of ``size``."""
    if padding == "same":
        output = math.ceil(size / stride)
        total = max((output - 1) * stride + kernel - size, 0)
        formula = f"output = ceil(input / stride) = ceil({size} / {stride}) = {output}"
        note = (
            f"'same' adds {total} cell(s) of zero padding ({total // 2} before, {total - total // 2} after) so "
            "the window can sit on the edges."
            if total
            else "No padding is needed here."
        )
        if kernel > size:
            note += f" The window ({kernel}) is larger than the input ({size}): most of what it sees is padding."
        return WindowFit(size, kernel, stride, padding, output, total // 2, total - total // 2, formula, "", note)
    if kernel > size:
        return WindowFit(
            size,
            kernel,
            stride,
            padding,
            None,
            0,
            0,
            f"output = floor((input − kernel) / stride) + 1 = floor(({size} − {kernel}) / {stride}) + 1 < 1",
            f"the window ({kernel}) is larger than the input ({size}), so it fits nowhere: use a window of at "
            f"most {size}, set padding to 'same', or keep the input larger (fewer pooling layers above)",
            "",
        )
    output = (size - kernel) // stride + 1
    formula = f"output = floor((input − kernel) / stride) + 1 = floor(({size} − {kernel}) / {stride}) + 1 = {output}"
    unused = size - ((output - 1) * stride + kernel)
    note = (
        f"The last {unused} cell(s) are never under the window: stride {stride} does not land on the end, so "
        "they are ignored. A stride that divides input − kernel, or 'same' padding, uses them."
        if unused
        else "Every cell is under the window at least once."
    )
    return WindowFit(size, kernel, stride, padding, output, 0, 0, formula, "", note)
