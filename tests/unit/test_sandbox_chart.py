"""The shape sandbox's picture: every input, padding and output cell, and the window where it is."""

from core.model.window_math import window_fit
from dashboard.charts.sandbox import WINDOW, sliding_window_figure


def test_the_picture_has_each_cell_once_and_the_window_at_the_chosen_output_cell():
    fit = window_fit(8, 3, 1, "valid")  # 8×8 input, 3×3 kernel: a 6×6 output
    figure = sliding_window_figure(fit, 1, 2)
    rects = [s for s in figure.layout.shapes if s.type == "rect"]
    assert len(rects) == 8 * 8 + 6 * 6 + 1  # input cells, output cells, the window
    window = rects[-1]
    assert (window.x0, window.x1, window.y0, window.y1) == (2, 5, 1, 4)  # column 2, row 1, 3 cells wide
    marked = [s for s in rects if s.fillcolor == WINDOW]
    assert len(marked) == 1 and (marked[0].x0 - (8 + 2), marked[0].y0) == (2, 1)  # the output cell it makes


def test_same_padding_draws_the_padding_cells_dotted():
    fit = window_fit(5, 3, 1, "same")
    figure = sliding_window_figure(fit, 0, 0)
    dotted = [s for s in figure.layout.shapes if s.line.dash == "dot"]
    assert len(dotted) == 7 * 7 - 5 * 5  # one ring of padding around the 5×5 input
