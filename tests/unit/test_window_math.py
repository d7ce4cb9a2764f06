"""The shape sandbox's arithmetic: Keras' output sizes, the formula with the numbers, and why it does not fit."""

import pytest

from core.model.spec import analyze
from core.model.window_math import window_fit


@pytest.mark.parametrize("size", [5, 7, 13, 28])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_size_agrees_with_the_model_summary(size, kernel, stride, padding):
    spec = {
        "input_shape": [size, size, 1],
        "layers": [{"type": "Conv2D", "filters": 1, "kernel_size": kernel, "strides": stride, "padding": padding}],
    }
    expected = analyze(spec).layers[0].output_shape
    fit = window_fit(size, kernel, stride, padding)
    assert fit.output == (expected[0] if expected else None)
    if fit.fits:
        starts = fit.window_starts()
        assert len(starts) == fit.output and starts[0] == -fit.pad_before
        assert starts[-1] + kernel <= size + fit.pad_after  # the last window ends inside the padded input


def test_formula_has_the_numbers_filled_in():
    assert window_fit(28, 3, 1, "valid").formula.endswith("floor((28 − 3) / 1) + 1 = 26")
    assert window_fit(28, 3, 2, "same").formula == "output = ceil(input / stride) = ceil(28 / 2) = 14"


def test_a_window_larger_than_the_input_is_flagged_with_why():
    fit = window_fit(5, 7, 1, "valid")
    assert not fit.fits and "larger than the input (5)" in fit.problem and "'same'" in fit.problem


def test_cells_the_stride_skips_are_pointed_out():
    assert "last 1 cell(s) are never under the window" in window_fit(8, 3, 2, "valid").note
    assert "Every cell" in window_fit(7, 3, 2, "valid").note
    assert "1 before, 1 after" in window_fit(8, 3, 1, "same").note
