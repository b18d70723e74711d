"""A drawing pad for the mouse: draw a digit, get it as MNIST would have stored it.

Built on ipycanvas (a maintained Jupyter widget library made for drawing). The strokes are
drawn on the canvas in the browser and, at the same time, painted into a numpy array in the
kernel, so what the network sees never depends on reading pixels back from the browser; tests
drive the same handlers without a browser. When a stroke ends (mouse released or leaving the
pad), the drawing is preprocessed as MNIST's digits were (:func:`helpers.drawing.mnist_preprocess`),
shown next to the pad at 28x28, and handed to every callback registered with :meth:`on_change`.

Controls: pen / eraser, clear. Coordinates are canvas pixels, x to the right and y downwards.
"""

from __future__ import annotations

import io

import numpy as np

from .drawing import mnist_preprocess

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
    ``pen_width`` the stroke width in canvas pixels.

    Attributes: ``widget`` (the box to display), ``canvas`` (the ipycanvas Canvas), ``raw``
    (the drawing as a float array (size, size) in [0, 1]), ``value`` (the preprocessed digit,
    (28, 28)), ``strokes`` (how many strokes have ended). Methods: :meth:`on_change`,
    :meth:`clear`, and the mouse handlers ``down``, ``move``, ``up`` that the canvas calls.
    """

    def __init__(self, size: int = 280, pen_width: float = 22.0):
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
                             layout=w.Layout(width=f"{self.size}px", height=f"{self.size}px",
                                             border="2px solid #555"))
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"
        self.canvas.on_mouse_down(self.down)
        self.canvas.on_mouse_move(self.move)
        self.canvas.on_mouse_up(self.up)
        self.canvas.on_mouse_out(self.up)
        self.tool = w.ToggleButtons(options=["pen", "eraser"], value="pen", description="tool",
                                    tooltips=["draw in black", "rub out"])
        self.clear_button = w.Button(description="clear", icon="trash", tooltip="start again")
        self.clear_button.on_click(lambda _: self.clear())
        self.preview = w.Image(format="png", value=_png(self.value),
                               layout=w.Layout(width="140px", height="140px", border="1px solid #aaa"))
        self.caption = w.HTML("<div style='font-size:14px'>Draw a digit with the mouse.<br>"
                              "Right: what the network sees<br>(scaled into 20x20, centred by mass, 28x28).</div>")
        self._paint_background()
        self.widget = w.HBox([w.VBox([self.canvas, w.HBox([self.tool, self.clear_button])]),
                              w.VBox([self.caption, self.preview])])

    def on_change(self, callback) -> None:
        """Call ``callback(value)`` with the preprocessed (28, 28) digit whenever a stroke ends."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self._callbacks.append(callback)

    def _paint_background(self) -> None:
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, self.size, self.size)

    def _segment(self, x0, y0, x1, y1) -> None:
        erasing = self.tool.value == "eraser"
        paint_segment(self.raw, x0, y0, x1, y1, self.radius * (1.5 if erasing else 1.0), 0.0 if erasing else 1.0)
        self.canvas.stroke_style = "white" if erasing else "black"
        self.canvas.line_width = 2 * self.radius * (1.5 if erasing else 1.0)
        self.canvas.stroke_line(x0, y0, x1, y1)

    def down(self, x: float, y: float) -> None:
        """Mouse pressed at (x, y): a stroke starts with a dot."""
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
        self._paint_background()
        self._publish()

    def _publish(self) -> None:
        self.value = mnist_preprocess(self.raw)
        self.preview.value = _png(self.value)
        for callback in self._callbacks:
            callback(self.value)
