"""helpers.drawpad: strokes painted in the kernel, preprocessed when a stroke ends."""

import numpy as np

from helpers.drawpad import DrawingPad, paint_segment


def test_paint_segment_paints_a_round_capped_line():
    c = np.zeros((50, 50))
    paint_segment(c, 10, 25, 40, 25, 3, 1.0)
    assert c[25, 10:40].all()  # along the line (indexed [y, x])
    assert not c[25, :6].any() and not c[10].any()
    paint_segment(c, 25, 25, 25, 25, 3, 0.0)  # a dot of the eraser
    assert c[25, 25] == 0.0


def test_strokes_end_in_a_preprocessed_digit_and_callbacks():
    pad = DrawingPad()
    seen = []
    pad.on_change(seen.append)
    pad.move(10, 10)  # a move without a pressed button draws nothing
    assert not pad.raw.any()
    pad.down(140, 40)
    for y in range(40, 241, 20):
        pad.move(140, y)
    assert not seen  # nothing is sent while the stroke goes on
    pad.up(140, 240)
    assert pad.strokes == 1 and len(seen) == 1
    assert seen[0].shape == (28, 28) and seen[0].max() > 0.9
    rows = np.flatnonzero(seen[0].any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # the vertical stroke fills the 20-pixel box
    assert bytes(pad.preview.value).startswith(b"\x89PNG")
    pad.tool.value = "eraser"
    pad.down(140, 40)
    pad.move(140, 240)
    pad.up()
    assert pad.raw.sum() < 0.05 * 280 * 280
    pad.clear()
    assert not pad.raw.any() and not seen[-1].any()
