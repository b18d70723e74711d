"""A drawing pad for the mouse: draw a digit, get it as MNIST would have stored it.

Built on ipycanvas (a maintained Jupyter widget library made for drawing). The strokes are
drawn on the canvas in the browser and, at the same time, painted into a numpy array in the
kernel, so what the network sees never depends on reading pixels back from the browser; tests
drive the same handlers without a browser. When a stroke ends (mouse released or leaving the
pad), the drawing is preprocessed as MNIST's digits were (:func:`helpers.drawing.mnist_preprocess`),
shown next to the pad at 28x28, and handed to every callback registered with :meth:`on_change`.

Controls: pen / eraser, clear. Coordinates are canvas pixels, x to the right and y downwards.
Touch input (a tablet at the lectern) draws as the mouse does (the first finger).

A page reload keeps the drawing: ipycanvas does not restore a canvas's pixels in a new page
(ipycanvas issue 322), and after a reload its command channel no longer knows which canvas it
draws on, so new strokes were lost. The pad repaints itself from the kernel's array whenever the
browser announces a fresh canvas (ipycanvas's ``on_client_ready``), and names its canvas again
at the start of every stroke. A kernel restart ends the pad: the cell must be run again, which
the pad then says over its dimmed canvas (:data:`RESTART_NOTE`).
"""

from __future__ import annotations

import io

import numpy as np

from .drawing import mnist_preprocess

#: what the explorer and the preview say while the pad is empty
EMPTY = "draw a digit"
#: what the pad says once its kernel is gone (restarted or stopped)
RESTARTED = "The kernel restarted: run this cell again to draw."
#: The pad's message for a kernel restart, with its stylesheet. The widget manager
#: (@jupyter-widgets/base; checked in JupyterLab 4.6 and Notebook 7.6 by the browser tests
#: test_pad_restart.py and test_notebook7.py) adds the class ``jupyter-widgets-disconnected`` to
#: every widget view whose model lost its kernel connection, as on a restart: only then is the
#: message shown, over the canvas, which is dimmed.
RESTART_NOTE = f"""<style>
.book-pad {{position: relative;}}
.book-pad > .book-pad-note {{display: none;}}
.book-pad.jupyter-widgets-disconnected > .book-pad-note {{display: block; position: absolute;
  left: 10px; top: 60px; width: 200px; z-index: 2; margin: 0;}}
.book-pad.jupyter-widgets-disconnected > canvas {{opacity: 0.3;}}
</style><div style="font-size:16px; line-height:1.35; white-space:normal; color:#4a2c00;
  background:#fff3d6; border:2px solid #b26a00; border-radius:4px; padding:8px 10px;">{RESTARTED}</div>"""

__all__ = ["DrawingPad", "paint_segment"]


def paint_segment(canvas: np.ndarray, x0: float, y0: float, x1: float, y1: float, radius: float,
                  value: float) -> None:
    """Paint a round-capped line of ``radius`` from (x0, y0) to (x1, y1) into ``canvas`` in place.

    Inputs: ``canvas`` a float array (H, W) indexed ``[y, x]``; pixels whose centre lies within
    ``radius`` of the segment are set to ``value`` (1.0 for the pen, 0.0 for the eraser).
    """
    h, w = canvas.shape
    lo_x, hi_x = int(max(min(x0, x1) - radius - 1, 0)), int(min(max(x0, x1) + radius + 2, w))
    lo_y, hi_y = int(max(min(y0, y1) - radius - 1, 0)), int(min(max(y0, y1) + radius + 2, h))
    if lo_x >= hi_x or lo_y >= hi_y:
        return
    ys, xs = np.mgrid[lo_y:hi_y, lo_x:hi_x] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.zeros_like(xs) if length2 == 0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0, 1)
    dist2 = (xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2
    patch = canvas[lo_y:hi_y, lo_x:hi_x]
    patch[dist2 <= radius * radius] = value


def _png(image: np.ndarray) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()  # five screen pixels per MNIST pixel, so the preview stays sharp
    plt.imsave(buf, np.kron(image, np.ones((5, 5))), cmap="gray_r", vmin=0.0, vmax=1.0, format="png")
    return buf.getvalue()


class DrawingPad:
    """A square canvas to draw one digit on, with pen, eraser and clear.

    Inputs: ``size`` the canvas side in pixels (default 280, ten canvas pixels per MNIST pixel);
    ``pen_width`` the stroke width in canvas pixels; ``shown`` the side the canvas is shown at on
    the page, in CSS pixels (the browser scales the mouse coordinates back to canvas pixels).

    Attributes: ``widget`` (the box to display), ``canvas_box`` (the canvas and its buttons
    alone, which the explorer shows beside the digit it feeds), ``canvas`` (the ipycanvas Canvas), ``raw``
    (the drawing as a float array (size, size) in [0, 1]), ``value`` (the preprocessed digit,
    (28, 28)), ``strokes`` (how many strokes have ended). Methods: :meth:`on_change`,
    :meth:`clear`, and the mouse handlers ``down``, ``move``, ``up`` that the canvas calls.
    """

    def __init__(self, size: int = 280, pen_width: float = 22.0, shown: int = 220):
        import ipywidgets as w
        from ipycanvas import Canvas

        self.size = int(size)
        self.radius = pen_width / 2
        self.raw = np.zeros((self.size, self.size))
        self.value = np.zeros((28, 28))
        self.strokes = 0
        self._last = None
        self._callbacks = []
        self.canvas = Canvas(width=self.size, height=self.size,
                             layout=w.Layout(width=f"{int(shown)}px", height=f"{int(shown)}px",
                                             border="2px solid #555"))
        self.canvas.on_mouse_down(self.down)
        self.canvas.on_mouse_move(self.move)
        self.canvas.on_mouse_up(self.up)
        self.canvas.on_mouse_out(self.up)
        self.canvas.on_touch_start(lambda touches: self.down(*touches[0]) if touches else None)
        self.canvas.on_touch_move(lambda touches: self.move(*touches[0]) if touches else None)
        self.canvas.on_touch_end(lambda touches: self.up())
        self.canvas.on_touch_cancel(lambda touches: self.up())
        self.canvas.on_client_ready(self.repaint)
        self.tool = w.ToggleButtons(options=["pen", "eraser"], value="pen",
                                    tooltips=["draw in black", "rub out"], style={"button_width": "64px"})
        self.tool.add_class("book-no-redraw")  # the browser test kit expects no redraw from it
        self.clear_button = w.Button(description="clear", icon="trash", tooltip="start again",
                                     layout=w.Layout(width="80px"))
        self.clear_button.on_click(lambda _: self.clear())
        self.clear_button.add_class("book-no-redraw")  # on an empty pad there is nothing to redraw
        self.preview = w.Image(format="png", value=_png(self.value),
                               layout=w.Layout(width="140px", height="140px", border="1px solid #aaa"))
        self.caption = w.HTML("<div style='font-size:14px;line-height:1.3'>Draw a digit with the mouse"
                              " or a finger.<br>Below: what the network sees<br>(scaled into 20x20,"
                              " centred by mass, 28x28).</div>", layout=w.Layout(width="150px"))
        self.repaint()
        from .widgets import BookHBox

        # hidden while the kernel is alive; shown over the dimmed canvas once the page lost it
        self.restart_note = w.HTML(RESTART_NOTE)
        self.restart_note.add_class("book-pad-note")
        self.canvas_box = w.VBox([self.canvas, w.HBox([self.tool, self.clear_button]), self.restart_note])
        self.canvas_box.add_class("book-pad")
        self.widget = BookHBox([self.canvas_box, w.VBox([self.caption, self.preview])],
                               placeholder="drawing pad: run this cell")

    def on_change(self, callback) -> None:
        """Call ``callback(value)`` with the preprocessed (28, 28) digit whenever a stroke ends."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self._callbacks.append(callback)

    def _claim_canvas(self) -> None:
        # ipycanvas sends its drawing commands through one shared manager that names the target
        # canvas only when it changes; a reloaded page has forgotten it. Forget it here too, so
        # the next command names this canvas again (ipycanvas 0.14, a private attribute).
        manager = getattr(self.canvas, "_canvas_manager", None)
        if manager is not None and hasattr(manager, "_current_canvas"):
            manager._current_canvas = None

    def repaint(self) -> None:
        """Paint the whole drawing the kernel holds onto the canvas (after a page reload)."""
        from ipycanvas import hold_canvas

        self._claim_canvas()
        with hold_canvas():
            self.canvas.line_cap = "round"
            self.canvas.line_join = "round"
            if self.raw.any():
                grey = np.round(255 * (1.0 - self.raw)).astype(np.uint8)
                self.canvas.put_image_data(np.repeat(grey[:, :, None], 3, axis=2), 0, 0)
            else:
                self.canvas.fill_style = "white"
                self.canvas.fill_rect(0, 0, self.size, self.size)

    def _segment(self, x0, y0, x1, y1) -> None:
        erasing = self.tool.value == "eraser"
        paint_segment(self.raw, x0, y0, x1, y1, self.radius * (1.5 if erasing else 1.0), 0.0 if erasing else 1.0)
        self.canvas.stroke_style = "white" if erasing else "black"
        self.canvas.line_width = 2 * self.radius * (1.5 if erasing else 1.0)
        self.canvas.stroke_line(x0, y0, x1, y1)

    def down(self, x: float, y: float) -> None:
        """Mouse pressed (or finger down) at (x, y): a stroke starts with a dot."""
        self._claim_canvas()
        self._last = (float(x), float(y))
        self._segment(x, y, x, y)

    def move(self, x: float, y: float) -> None:
        """Mouse moved to (x, y): extend the current stroke, if any."""
        if self._last is None:
            return
        self._segment(*self._last, x, y)
        self._last = (float(x), float(y))

    def up(self, x: float = 0.0, y: float = 0.0) -> None:
        """Mouse released (or left the pad): the stroke ends and the digit is sent on."""
        if self._last is None:
            return
        self._last = None
        self.strokes += 1
        self._publish()

    def clear(self) -> None:
        """Wipe the pad (the callbacks receive an empty digit)."""
        self.raw[:] = 0.0
        self._last = None
        self.repaint()
        self._publish()

    def is_empty(self) -> bool:
        """True while nothing is drawn (the explorer then shows "draw a digit", no prediction)."""
        return not self.raw.any()

    def _publish(self) -> None:
        self.value = mnist_preprocess(self.raw, stroke=2 * self.radius)
        self.preview.value = _png(self.value)
        for callback in self._callbacks:
            callback(self.value)
