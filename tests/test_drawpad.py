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


def test_touch_draws_as_the_mouse_does():
    pad, mouse = DrawingPad(), DrawingPad()
    pad.canvas._touch_start_callbacks([(140, 40)])
    mouse.down(140, 40)
    for y in range(40, 241, 20):
        pad.canvas._touch_move_callbacks([(140, y)])
        mouse.move(140, y)
    pad.canvas._touch_end_callbacks([])
    mouse.up()
    assert pad.strokes == 1 and pad.raw.any()
    np.testing.assert_array_equal(pad.raw, mouse.raw)


def test_a_fresh_page_gets_the_kernels_drawing_and_the_canvas_named_again(monkeypatch):
    pad = DrawingPad()
    pad.down(140, 40)
    pad.move(140, 200)
    pad.up()
    sent = []
    monkeypatch.setattr(pad.canvas, "put_image_data", lambda image, x=0, y=0: sent.append(image))
    manager = pad.canvas._canvas_manager
    manager._current_canvas = pad.canvas  # what the kernel believes before a reload
    pad.canvas._client_ready_callbacks()  # the reloaded page announces a fresh canvas
    assert len(sent) == 1, "the drawing was not painted again"
    image = sent[0]
    assert image.shape == (280, 280, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[:, :, 0] < 128, pad.raw > 0.5)  # black where the kernel has ink
    manager._current_canvas = pad.canvas
    commands = []
    monkeypatch.setattr(manager, "_send_custom", lambda command, buffers=[]: commands.append(command))
    pad.down(100, 100)  # the next stroke names its canvas again, whatever the manager remembered
    from ipycanvas.canvas import COMMANDS
    assert commands and commands[0][0] == COMMANDS["switchCanvas"]


def test_an_empty_pad_says_so():
    pad = DrawingPad()
    assert pad.is_empty()
    pad.down(10, 10)
    pad.up()
    assert not pad.is_empty()
    pad.clear()
    assert pad.is_empty()


def test_a_tiny_one_drawn_with_the_wide_pen_is_read_as_one():
    """A "1" 30 px tall on the 280 px pad (52 px with the pen's caps): scaled to 20 px with its
    22 px stroke it became a blob the trained network read as 8 (issue 23)."""
    from helpers import network, pretrained
    from helpers.drawing import MNIST_STROKE, mnist_preprocess

    params = pretrained.load("trained", dtype=np.float64)
    pad = DrawingPad()
    pad.down(140, 125)
    pad.move(140, 155)
    pad.up()
    x = pad.value
    width = np.median(x.sum(axis=1)[x.sum(axis=1) > 0])  # ink per row of a vertical stroke
    assert width <= MNIST_STROKE + 1  # one pixel for the area averaging across pixel edges
    assert int(np.argmax(network.forward(params, x)["y_hat"])) == 1
    blob = mnist_preprocess(pad.raw)  # without the pen width: the blob of the report
    assert np.median(blob.sum(axis=1)[blob.sum(axis=1) > 0]) > 2 * width


def test_the_pad_says_what_to_do_after_a_kernel_restart():
    """The message sits in the pad's box, hidden by its own stylesheet until the widget manager
    marks the box ``jupyter-widgets-disconnected`` (the browser test shows it after a restart)."""
    import re

    from helpers.drawpad import RESTARTED

    pad = DrawingPad()
    assert "run this cell again" in RESTARTED
    assert pad.restart_note in pad.canvas_box.children and "book-pad-note" in pad.restart_note._dom_classes
    assert "book-pad" in pad.canvas_box._dom_classes
    style, _, body = pad.restart_note.value.partition("</style>")
    assert RESTARTED in body and RESTARTED not in style
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", style.replace("<style>", "")))
    rules = {k.strip(): v for k, v in rules.items()}
    assert "display: none" in rules[".book-pad > .book-pad-note"]  # hidden while connected
    shown = rules[".book-pad.jupyter-widgets-disconnected > .book-pad-note"]
    assert "display: block" in shown and "position: absolute" in shown  # over the canvas
    assert "opacity" in rules[".book-pad.jupyter-widgets-disconnected > canvas"]  # dimmed
    assert int(re.search(r"font-size:\s*(\d+)px", body).group(1)) >= 14
    assert pad.canvas_box in pad.widget.children[0:1]  # the pad's own cell shows it too
