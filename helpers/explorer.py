"""The backpropagation explorer: one digit, any target, any network state, one step at a time.

A class asks questions the static figures cannot answer: what if the label were 5? what does
the error look like once the network has learned? what does it make of my own handwriting?
This module answers them for Zhang's network, in two layers (as everywhere in the book):

* plain functions that compute and draw, usable without a kernel: :func:`explore` runs the
  forward and backward pass of one image against a chosen target class and collects every
  intermediate array; :func:`summary` gives the numbers a teacher points at; :func:`render`
  draws one step of the pass;
* the widget :class:`Explorer`, which wires those functions to controls (digit by class and
  example, or a drawing; the label in the loss; the network state; the step; the colour scale;
  perturbations; an editable first-layer kernel). Each lesson offers the steps taught so far
  (:data:`UPTO`); :func:`book_explorer` is the explorer on MNIST-5k that the notebooks show.

The steps follow the order of the backward pass, each with its equation in Zhang's note:
output error -> dW, df -> dS2 -> dC2 -> dC2_sigma -> dk2, db2 -> dS1 -> dC1 -> dC1_sigma ->
dk1, db1; the forward maps C1, S1, C2, S2 come first, for the forward half of the story.
For one image every array is the gradient of L = 1/2 sum (y_hat - y)^2 (Zhang eq. 13).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import network
from ._validate import as_pixels, check_class_labels
from .drawing import perturb
from .explorer_figure import BARS_ONLY, FIG_HEIGHT, FIG_WIDTH, FONT, STEPS, number, render  # noqa: F401
from .widgets import examples_by_class, image_index

__all__ = ["STEPS", "SYMBOLS", "UPTO", "trained_scale_presets", "explore", "summary", "format_summary", "render", "least_sure", "Explorer",
           "book_states", "book_explorer", "RUNNING", "number", "EMPTY_PAD"]

#: the steps each lesson has taught, the explorer's ``upto``: 02 the forward maps, 03 the output
#: error, dW and df, 04 the error through F^-1 and the pooling, 05 everything
UPTO = {"forward": ("C1", "S1", "C2", "S2"),
        "fc": ("C1", "S1", "C2", "S2", "dy_hat", "dW", "df"),
        "pooling": ("C1", "S1", "C2", "S2", "dy_hat", "dW", "df", "dS2", "dC2"),
        "all": tuple(STEPS)}
#: MNIST-5k image of the book's running example: the first 3 (example 0 of class 3), a training digit
RUNNING = 1500
#: the layers whose largest absolute error :func:`summary` reports
ERROR_LAYERS = ("dy_hat", "df", "dS2", "dC2", "dC2_sigma", "dS1", "dC1", "dC1_sigma")

#: the symbol of each error in the summaries, as the dropdown and the figures write it
SYMBOLS = {"dy_hat": "Δŷ", "df": "Δf", "dS2": "ΔS2", "dC2": "ΔC2", "dC2_sigma": "ΔC2_σ",
           "dS1": "ΔS1", "dC1": "ΔC1", "dC1_sigma": "ΔC1_σ"}
#: CSS of the explorer's compact presentation: the figure scaled to the window's height (the
#: JupyterLab bars take about 120 CSS px, the one-line summary about 40), never wider than its column
STYLE = """<style>
.book-explorer .widget-toggle-button {padding: 0 6px;}
.book-compact .widget-output img {width: auto !important; height: auto !important;
  max-width: 100% !important; max-height: calc(100vh - 185px) !important;}
</style>"""
#: what the explorer shows while the pad it reads is empty
EMPTY_PAD = "draw a digit"


def _check_class(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= 9:
        raise ValueError(f"{name} must be a class 0..9, got {value!r}")
    return int(value)


def explore(params, x, target: int) -> dict:
    """Forward and backward pass of one image against the target class ``target``.

    Inputs:
    - params: Zhang's parameters (see :func:`helpers.network.init_params`).
    - x: one image of shape (28, 28): floats in [0, 1] or integer pixels 0..255 (divided by 255).
    - target: the class 0..9 whose one-hot vector is y in the loss (any class, not only the true one).

    Returns a dict with the forward cache's maps (``x, C1, S1, C2, S2, f, y_hat``), the errors
    (``dy_hat, df, dS2, dC2, dC2_sigma, dS1, dC1, dC1_sigma``), the gradients (``dk1, db1,
    dk2, db2, dW, db``), ``loss`` (Zhang eq. 13), ``target`` and ``predicted`` (argmax y_hat).
    """
    target = _check_class(target, "target")
    x = as_pixels(x, "x")
    if x.shape != (28, 28):
        raise ValueError(f"x must be one image of shape (28, 28), got shape {x.shape}")
    cache = network.forward(params, x)
    y = np.zeros(10)
    y[target] = 1.0
    grads, errors = network.backward_with_errors(params, cache, y)
    out = {k: cache[k] for k in ("x", "C1", "S1", "C2", "S2", "f", "y_hat")}
    out.update(errors)
    out.update({"d" + k: v for k, v in grads.items()})
    out["loss"] = float(network.loss(cache, y))
    out["target"] = target
    out["predicted"] = int(np.argmax(cache["y_hat"]))
    return out


def summary(result: dict) -> dict:
    """The numbers beside the picture: loss, prediction and its output, largest |error| per layer."""
    p = result["predicted"]
    return {
        "loss": result["loss"],
        "target": result["target"],
        "predicted": p,
        "y_hat_predicted": float(result["y_hat"][p]),
        "y_hat_target": float(result["y_hat"][result["target"]]),
        "max_abs": {k: float(np.abs(result[k]).max()) for k in ERROR_LAYERS},
    }


def format_summary(result: dict) -> str:
    """:func:`summary` as a few lines of text, numbers as the figure draws them (:func:`number`)."""
    s = summary(result)
    lines = [f"L = {number(s['loss'])}   label in the loss {s['target']}: ŷ = {s['y_hat_target']:.3f}",
             f"predicted class {s['predicted']}: ŷ = {s['y_hat_predicted']:.3f}",
             "largest |error|: " + ", ".join(f"{SYMBOLS[k]} {number(v)}" for k, v in s["max_abs"].items())]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------------------------
def least_sure(params, images, labels, among=None) -> dict:
    """The digit the network finds hardest: the lowest output for its true class.

    Inputs: ``params``; ``images`` (N, 28, 28), floats in [0, 1] or integer pixels 0..255
    (divided by 255); ``labels`` (N,) integer classes 0..9, one per image; ``among``: optional
    indices into ``images`` to search (e.g. the held-out digits), default all.
    Returns a dict: ``index`` into ``images``, its ``digit`` (class) and ``example`` (its rank
    among all the images of that class in ``images``, as the explorer's controls count),
    ``y_hat_true`` and the ``predicted`` class. A digit that is misread or nearly so.
    """
    images, labels = _check_digits(images, labels)
    if among is None:
        among = np.arange(len(labels))
    else:
        among = np.asarray(among)
        if among.ndim != 1 or among.size == 0 or among.dtype.kind not in "iu" or \
                among.min() < 0 or among.max() >= len(labels):
            raise ValueError(f"among must be a non-empty 1-d array of indices 0..{len(labels) - 1}")
    y_hat = network.forward(params, images[among])["y_hat"]
    scores = y_hat[np.arange(len(among)), labels[among]]
    k = int(np.argmin(scores))
    index = int(among[k])
    digit = int(labels[index])
    return {"index": index, "digit": digit,
            "example": int(np.flatnonzero(examples_by_class(labels)[digit] == index)[0]),
            "y_hat_true": float(scores[k]), "predicted": int(np.argmax(y_hat[k]))}


def _check_digits(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """``images`` (N, 28, 28) as float64 in [0, 1] (:func:`helpers._validate.as_pixels`) and
    ``labels`` (N,) as int64 classes 0..9, or one clear error naming the argument."""
    images = as_pixels(images, "images")
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(f"images must have shape (N, 28, 28) with N >= 1, got shape {images.shape}")
    return images, check_class_labels(labels, len(images), "labels")


def trained_scale_presets(states: dict) -> dict:
    """The 5x5 kernel presets (:func:`helpers.widgets.kernel_presets`) brought into the range of
    the first-layer kernels the network has: a preset whose largest |entry| exceeds the largest
    |k1| of the last state in ``states`` (4.38 for the shipped trained network) is scaled down to
    it, so that loading the Laplacian (24 at its centre) does not swamp the trained scale."""
    from .widgets import kernel_presets

    top = float(np.abs(list(states.values())[-1]["k1"]).max())
    out = {}
    for name, k in kernel_presets(5).items():
        peak = float(np.abs(k).max())
        out[name] = k * min(1.0, top / peak) if peak > 0 else k
    return out


class Explorer:
    """The explorer widget: one screen at 1366x768 (issue 23), the controls in a 360 px column
    on the left, the numbers and the figure on the right. The perturbations, the first-layer
    kernel editor and the compact presentation (for a zoomed screen: one summary line, the figure
    fitted to the window's height) are toggles, folded until pressed; with a pad, "my drawing"
    shows the pad in place of the digit controls, and an empty pad shows "draw a digit".

    Inputs:
    - states: dict name -> parameters, e.g. ``{"untrained": p0, "one epoch": p1, "trained": p2}``.
    - images: array (N, 28, 28) of digits, floats in [0, 1] or integer pixels 0..255 (divided by
      255); labels: array (N,) of their integer classes 0..9, one per image.
    - pad: an optional :class:`helpers.drawpad.DrawingPad` (its canvas is shown inside the
      explorer); with it, the digit can be drawn, and each finished stroke updates the explorer.
      Without it the "digit from" control is left out.
    - digit, example, state, step, label: the starting values (``digit=None``: class 3 if the
      labels have it, else their smallest class; ``label=None``: the true class). The digit
      control offers the classes the labels have.
    - upto: the steps taught so far, a key of :data:`UPTO` ("forward", "fc", "pooling", "all");
      only those steps are offered, and controls that cannot apply are left out or hidden (no
      label and no colour scale for the forward maps alone).
    - presets: optional dict button text -> index into ``images``: one button per entry that
      shows that digit (e.g. the running example, the hardest held-out digit).
    - held_out: optional indices of the held-out digits among ``images``; the summary then says
      whether the digit shown is a training or a held-out digit.

    Attributes: ``widget`` (the ipywidgets box to display), ``controls`` (dict of widgets),
    ``buttons`` (dict text -> Button), ``result`` (the last :func:`explore` result), ``figure``
    (the last figure). ``image()`` is the digit as fed to the network after the perturbations.
    """

    def __init__(self, states: dict, images, labels, *, pad=None, digit=None, example: int = 0,
                 state=None, step=None, label=None, upto: str = "all", presets=None, held_out=None):
        import ipywidgets as w

        from .widgets import BookBox, InteractiveFigure, KernelEditor

        if not states:
            raise ValueError("states must name at least one set of parameters")
        if upto not in UPTO:
            raise ValueError(f"upto must be one of {list(UPTO)}, got {upto!r}")
        self.upto, steps = upto, UPTO[upto]
        step = steps[-1] if step is None else step
        if step not in steps:
            raise ValueError(f"step must be one of {list(steps)} (the steps of upto={upto!r}), got {step!r}")
        self.states = {name: {k: np.array(v, dtype=np.float64) for k, v in p.items()} for name, p in states.items()}
        for p in self.states.values():
            network.check_params(p)
        self.images, self.labels = _check_digits(images, labels)
        self.by_class = examples_by_class(self.labels)
        if digit is None:
            digit = 3 if 3 in self.by_class else min(self.by_class)
        if _check_class(digit, "digit") not in self.by_class:
            raise ValueError(f"digit must be a class the labels have, one of {sorted(self.by_class)}, got {digit}")
        image_index(self.labels, digit, example)  # refuses an example that is not there
        self.held_out = None if held_out is None else set(int(i) for i in held_out)
        self.presets = {} if presets is None else {str(k): int(v) for k, v in presets.items()}
        for text, index in self.presets.items():
            if not 0 <= index < len(self.labels):
                raise ValueError(f"presets[{text!r}] must be an index 0..{len(self.labels) - 1}, got {index}")
        self.pad = pad
        state = state if state is not None else list(self.states)[-1]
        W = w.Layout  # noqa: N806
        style = {"description_width": "115px"}  # one column of labels, the controls aligned
        full = W(width="350px")
        c = {
            "source": w.ToggleButtons(options=["data set", "my drawing"], value="data set",
                                      style={"button_width": "100px"},
                                      tooltips=["a digit of the data set", "the digit drawn on the pad"]),
            "digit": w.Dropdown(options=sorted(self.by_class), value=digit,
                                description="digit: class", style=style, layout=W(width="190px")),
            "example": w.IntSlider(value=example, min=0, max=len(self.by_class[digit]) - 1,
                                   description="example of that class", continuous_update=False,
                                   style={"description_width": "155px"}, layout=full),
            "label": w.Dropdown(options=[("true class", -1)] + [(str(k), k) for k in range(10)],
                                value=-1 if label is None else _check_class(label, "label"),
                                description="label in the loss", style=style, layout=W(width="250px")),
            "state": w.ToggleButtons(options=list(self.states), value=state, style={"button_width": "auto"}),
            "step": w.Dropdown(options=[(f"{STEPS[k][0]} ({STEPS[k][1]})", k) for k in steps], value=step,
                               description="step of the pass", style=style, layout=full),
            "scale": w.ToggleButtons(options=["linear", "symlog"], value="linear", style={"button_width": "100px"},
                                     tooltips=["linear, symmetric about 0", "symmetric log: small errors stay visible"]),
            "degrees": w.IntSlider(value=0, min=-45, max=45, step=5, description="rotate (degrees)", style=style,
                                   continuous_update=False, layout=full),
            "rows": w.IntSlider(value=0, min=-6, max=6, description="shift down (px)", style=style,
                                continuous_update=False, layout=full),
            "cols": w.IntSlider(value=0, min=-6, max=6, description="shift right (px)", style=style,
                                continuous_update=False, layout=full),
            "thickness": w.IntSlider(value=0, min=-1, max=2, description="thicken / thin", style=style,
                                     continuous_update=False, layout=full),
            "erase_size": w.IntSlider(value=0, min=0, max=12, description="erase patch (px)", style=style,
                                      continuous_update=False, layout=full),
            "erase_row": w.IntSlider(value=8, min=0, max=27, description="patch row", style=style,
                                     continuous_update=False, layout=W(width="350px", display="none")),
            "erase_col": w.IntSlider(value=8, min=0, max=27, description="patch column", style=style,
                                     continuous_update=False, layout=W(width="350px", display="none")),
            "noise": w.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.05, description="noise (std)",
                                   style=style, continuous_update=False, layout=full),
            "kernel": w.Dropdown(options=[("as trained", -1)] + [(f"edit k1 of map p={p + 1}", p) for p in range(6)],
                                 value=-1, description="first-layer kernel", style={"description_width": "125px"},
                                 layout=W(width="300px")),
        }
        self.editor = KernelEditor(size=5, presets=trained_scale_presets(self.states), description="load a preset")
        self.editor.preset.style = {"description_width": "95px"}
        self.editor.preset.layout = W(width="300px")
        self.editor.layout.display = "none"
        c["k1"] = self.editor
        self.controls = c
        self.summary_html = w.HTML(layout=W(width="auto"))
        self.summary_html.add_class("book-summary")
        self.buttons = {text: w.Button(description=text.split(" (")[0], layout=W(width="auto"),
                                       tooltip=f"{text}: show image {index} of the collection")
                        for text, index in self.presets.items()}
        for text, button in self.buttons.items():
            button.on_click(lambda _, index=self.presets[text]: self.show(index))
        # these keep the controls consistent; registered first, so they run before the redraw
        c["digit"].observe(self._on_digit, names="value")
        c["erase_size"].observe(self._on_erase, names="value")
        c["kernel"].observe(self._on_kernel, names="value")
        c["state"].observe(self._on_kernel, names="value")
        c["source"].observe(self._on_source, names="value")
        c["step"].observe(self._on_step, names="value")
        self._on_step({"new": step})
        self.figure_box = InteractiveFigure(self._render, dict(c))
        self.figure = self.figure_box.figure
        self.figure_box.output.add_class("book-figure")
        if pad is not None:
            pad.on_change(self._on_drawing)
        # One screen (issue 23): the controls in a column beside the figure, the perturbations
        # and the kernel editor folded away until opened; controls that cannot apply in this
        # lesson (no pad, no loss taught) are left out, those that cannot apply now are hidden.
        forward_only = upto == "forward"
        self.digit_box = w.VBox([c["digit"], c["example"],
                                 w.HBox(list(self.buttons.values()), layout=W(flex_flow="row wrap", width="350px"))])
        self.pad_box = w.VBox([pad.canvas_box] if pad is not None else [], layout=W(display="none"))
        self.perturb_box = w.VBox([c["degrees"], c["rows"], c["cols"], c["thickness"], c["noise"],
                                   c["erase_size"], c["erase_row"], c["erase_col"]], layout=W(display="none"))
        self.kernel_box = w.VBox([c["kernel"], self.editor], layout=W(display="none"))
        # folded away until opened: the perturbations, the kernel editor; and the compact
        # presentation for a zoomed screen (one summary line, the figure fitted to the height)
        self.toggles = {
            "perturb": w.ToggleButton(description="perturb", icon="random", layout=W(width="95px"),
                                      tooltip="show the perturbations: rotate, shift, thicken, erase, noise"),
            "kernel": w.ToggleButton(description="kernel", icon="th", layout=W(width="95px"),
                                     tooltip="show the first-layer kernel editor"),
            "compact": w.ToggleButton(description="compact", icon="compress", layout=W(width="110px"),
                                      tooltip="for a zoomed screen: one summary line, the figure fitted to the window"),
        }
        for toggle in self.toggles.values():
            toggle.add_class("book-no-redraw")  # the browser test kit expects no redraw from these
        self.toggles["perturb"].observe(lambda ch: self._fold(self.perturb_box, ch["new"]), names="value")
        self.toggles["kernel"].observe(lambda ch: self._fold(self.kernel_box, ch["new"]), names="value")
        self.toggles["compact"].observe(lambda ch: self._compact(ch["new"]), names="value")
        def labelled(text, control):  # a label in the column of descriptions, then the buttons
            return w.HBox([w.Label(text, layout=W(width="115px", justify_content="flex-end")), control],
                          layout=W(width="350px"))

        self.scale_row = labelled("colour scale", c["scale"])
        column = [self.digit_box] + ([] if forward_only else [c["label"]])
        column += [labelled("network", c["state"]), c["step"]] + ([] if forward_only else [self.scale_row])
        column += [w.HBox(list(self.toggles.values())), self.perturb_box, self.kernel_box]
        # the pad, when there is one, last: "my drawing" hides the digit controls above and
        # shows the pad here, still beside the figure it feeds
        column += [labelled("digit from", c["source"]), self.pad_box] if pad is not None else []
        self.controls_box = w.VBox(column, layout=W(width="360px", flex="0 0 360px"))
        self.figure_column = w.VBox([self.summary_html, self.figure_box.output],
                                    layout=W(flex="1 1 auto", min_width="0"))
        self.widget = BookBox([w.HTML(STYLE), w.HBox([self.controls_box, self.figure_column],
                                                     layout=W(align_items="flex-start"))],
                              placeholder="interactive explorer: run this cell")
        self.widget.add_class("book-explorer")
        self._update_summary()

    # -- what the controls mean --------------------------------------------------------------
    def show(self, index: int) -> None:
        """Show image ``index`` of the collection (what a preset button does)."""
        digit = int(self.labels[index])
        self.controls["source"].value = "data set"
        self.controls["digit"].value = digit
        self.controls["example"].value = int(np.flatnonzero(self.by_class[digit] == index)[0])

    def index(self):
        """Index into the collection of the digit shown, or None for a drawing."""
        c = self.controls
        if c["source"].value == "my drawing":
            return None
        return int(self.by_class[c["digit"].value][c["example"].value])

    def image(self) -> np.ndarray:
        """The digit as fed to the network: the chosen one (or the drawing), perturbed."""
        v = {k: ctrl.value for k, ctrl in self.controls.items()}
        if v["source"] == "my drawing" and self.pad is not None:
            x = self.pad.value
        else:
            x = self.images[self.by_class[v["digit"]][v["example"]]]
        return perturb(x, rows=v["rows"], cols=v["cols"], degrees=v["degrees"], thickness=v["thickness"],
                       erase_size=v["erase_size"], erase_at=(v["erase_row"], v["erase_col"]),
                       noise=v["noise"], seed=0)

    def true_class(self):
        c = self.controls
        return None if c["source"].value == "my drawing" else c["digit"].value

    def params(self) -> dict:
        """The chosen state's parameters, with the edited first-layer kernel if one is edited."""
        p = dict(self.states[self.controls["state"].value])
        kernel = self.controls["kernel"].value
        if kernel >= 0:
            k1 = p["k1"].copy()
            k1[kernel] = self.editor.value
            p["k1"] = k1
        return p

    def _render(self, **values):
        target = values["label"]
        if self.controls["source"].value == "my drawing" and self.pad is not None and self.pad.is_empty():
            self.result = None  # nothing drawn: no prediction, no loss
            self._update_summary()
            self.figure = EMPTY_PAD
            return EMPTY_PAD
        if target == -1:
            true = self.true_class()
            target = true if true is not None else None
        x = self.image()
        p = self.params()
        if target is None:  # a drawing has no true class: use the prediction as the label
            target = int(np.argmax(network.forward(p, x)["y_hat"]))
        self.result = explore(p, x, target)
        self._update_summary()
        kernel = values["kernel"]
        fig = render(self.result, values["step"], values["scale"], true_class=self.true_class(),
                     patch=(values["erase_row"], values["erase_col"], values["erase_size"]),
                     note=f"k1 of map p={kernel + 1} edited" if kernel >= 0 else "")
        self.figure = fig
        return fig

    def _update_summary(self) -> None:
        if not hasattr(self, "summary_html"):
            return
        if getattr(self, "result", None) is None:
            self.summary_html.value = f"<div style='font-size:15px'>your drawing: the pad is empty, {EMPTY_PAD}</div>"
            return
        s = summary(self.result)
        index = self.index()
        where = "your drawing" if index is None else f"image {index} of the collection"
        if index is not None and self.held_out is not None:
            where += " (a held-out digit)" if index in self.held_out else " (a training digit)"
        taught = [k for k in ERROR_LAYERS if k in UPTO[self.upto]]
        cells = " &nbsp;".join(f"<span style='white-space:nowrap'>{SYMBOLS[k]} <b>{number(s['max_abs'][k])}</b></span>"
                               for k in taught)
        if "toggles" in self.__dict__ and self.toggles["compact"].value:
            self.summary_html.value = (
                f"<div style='font-size:15px'>L = <b>{number(s['loss'])}</b>, predicted <b>{s['predicted']}</b>"
                f" (ŷ = {s['y_hat_predicted']:.3f}), label <b>{s['target']}</b> (ŷ = {s['y_hat_target']:.3f})</div>")
            return
        state = self.controls["state"].value
        note = ("<br><i>untrained: random small weights, so the maps hardly depend on the digit: another "
                "digit changes ΔC2 by under 1%, another label by over 10% (measured in notebook 04). "
                "Change the label, or the network.</i>" if "untrained" in state else "")
        self.summary_html.value = (
            f"<div style='font-size:15px;line-height:1.35'>{where}: L = <b>{number(s['loss'])}</b>, "
            f"predicted <b>{s['predicted']}</b> (ŷ = {s['y_hat_predicted']:.3f}), "
            f"label in the loss <b>{s['target']}</b> (ŷ = {s['y_hat_target']:.3f})"
            + (f"<br>largest |error|: {cells}" if taught else "")
            + note + "</div>")

    # -- keeping the controls consistent -----------------------------------------------------
    @staticmethod
    def _fold(box, shown: bool) -> None:
        box.layout.display = None if shown else "none"

    def _compact(self, on: bool) -> None:
        if on:
            self.widget.add_class("book-compact")
        else:
            self.widget.remove_class("book-compact")
        self._update_summary()

    def _on_digit(self, change) -> None:
        ex = self.controls["example"]
        ex.max = len(self.by_class[change["new"]]) - 1

    def _on_erase(self, change) -> None:
        for k in ("erase_row", "erase_col"):  # no patch, no position: hidden, not greyed
            self.controls[k].layout.display = "none" if change["new"] == 0 else None

    def _on_kernel(self, change) -> None:
        p = self.controls["kernel"].value
        self.editor.layout.display = "none" if p < 0 else None
        if p >= 0:
            self.editor.set(self.states[self.controls["state"].value]["k1"][p])

    def _on_step(self, change) -> None:
        # forward maps are in [0, 1]; dy_hat and df are drawn as bars only: no colour scale
        step = change["new"]
        fixed = STEPS[step][2] == "forward" or step in BARS_ONLY
        self.controls["scale"].layout.display = "none" if fixed else None
        if hasattr(self, "scale_row"):
            self.scale_row.layout.display = "none" if fixed else None

    def _on_source(self, change) -> None:
        # a drawing has no class nor example: the data-set controls are hidden while it is shown
        drawing = change["new"] == "my drawing"
        self.digit_box.layout.display = "none" if drawing else None
        self.pad_box.layout.display = None if drawing else "none"

    def _on_drawing(self, image) -> None:
        if self.controls["source"].value != "my drawing":
            self.controls["source"].value = "my drawing"  # redraws through the control
        else:
            self.figure_box.redraw(raise_errors=False)


# --------------------------------------------------------------------------------------------
# The explorer as the notebooks use it
# --------------------------------------------------------------------------------------------
def book_states() -> dict:
    """The three shipped states of Zhang's network, in float64: ``{"untrained": ..., "one epoch":
    ..., "trained": ...}`` (:func:`helpers.pretrained.load`)."""
    from . import pretrained

    return {name.replace("_", " "): pretrained.load(name, dtype=np.float64) for name in pretrained.STATES}


def book_explorer(step=None, *, pad=None, state: str = "trained", upto: str = "all") -> Explorer:
    """The explorer on the 5,000 MNIST-5k digits with the shipped states, as the notebooks use it.

    The collection is the one :func:`helpers.widgets.digit_picker` chooses from when given
    ``helpers.data.load_mnist_5k()``'s labels: "example k of class c" is the (k+1)-th image of
    class c in data-set order, in every notebook. It opens on the running example (image
    :data:`RUNNING`, example 0 of class 3, a training digit), which the trained network reads
    correctly; a button shows the held-out digit (one of the 1,000 that
    ``helpers.data.load_mnist_5k_split`` holds out) that the trained network finds hardest
    (:func:`least_sure`), another goes back to the running example. ``upto``, ``step`` and
    ``state`` as in :class:`Explorer`; ``pad`` connects a drawing pad. Attributes ``start``
    (the running example) and ``hardest`` (the hardest held-out digit): dicts as returned by
    :func:`least_sure` (``index`` into the 5,000).
    """
    from . import data

    images, labels = data.load_mnist_5k()
    images = images / 255.0
    _, held_out = data.stratified_split(labels, 100, 0)  # load_mnist_5k_split's held-out digits
    states = book_states()
    start = least_sure(states["trained"], images, labels, among=[RUNNING])  # the same dict, for one digit
    hardest = least_sure(states["trained"], images, labels, among=held_out)
    presets = {f"running example (image {RUNNING})": RUNNING,
               f"hardest held-out digit (image {hardest['index']})": hardest["index"]}
    e = Explorer(states, images, labels, pad=pad, digit=start["digit"], example=start["example"],
                 state=state, step=step, upto=upto, presets=presets, held_out=held_out)
    e.start, e.hardest = start, hardest
    return e
