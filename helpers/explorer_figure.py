"""The explorer's figure: one step of the forward or backward pass of Zhang's network, drawn.

Split from :mod:`helpers.explorer` (which re-exports everything here): :func:`render` draws a
:func:`helpers.explorer.explore` result; :data:`STEPS` names the steps with their equations in
Zhang's note; :func:`number` is the one rounding rule for every number the explorer prints or
draws. The figure is :data:`FIG_WIDTH` inches wide with no text under :data:`FONT` points, so
that beside the explorer's controls on a 1366x768 screen its smallest text is 14.6 px.
"""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.patches import Rectangle

from .figures.base import new_figure
from .figures.layout import WIDGET_FONT, power_of_ten

__all__ = ["STEPS", "BARS_ONLY", "FIG_WIDTH", "FIG_HEIGHT", "FONT", "number", "render"]

#: step key -> (title, equation in Zhang's note, what is shown)
STEPS = {
    "C1": ("C1: first feature maps", "eqs. 4-5", "forward"),
    "S1": ("S1: pooled first maps", "eq. 6", "forward"),
    "C2": ("C2: second feature maps", "eqs. 7-8", "forward"),
    "S2": ("S2: pooled second maps", "eq. 9", "forward"),
    "dy_hat": ("output error Δŷ", "eq. 17", "backward"),
    "dW": ("ΔW = Δŷ fᵀ", "eq. 19", "backward"),
    "df": ("Δf = Wᵀ Δŷ", "eq. 30", "backward"),
    "dS2": ("ΔS2 = F⁻¹(Δf)", "eq. 31", "backward"),
    "dC2": ("ΔC2: upsampled error", "eq. 32", "backward"),
    "dC2_sigma": ("ΔC2_σ: times σ'", "eq. 37", "backward"),
    "dk2": ("Δk2 and Δb2", "eqs. 40, 45", "backward"),
    "dS1": ("ΔS1: full convolution", "eq. 51", "backward"),
    "dC1": ("ΔC1: upsampled error", "eq. 52", "backward"),
    "dC1_sigma": ("ΔC1_σ: times σ'", "eq. 57", "backward"),
    "dk1": ("Δk1 and Δb1", "eqs. 59, 64", "backward"),
}
#: the steps drawn as bars only (no colour scale to choose)
BARS_ONLY = ("dy_hat", "df")


def number(v: float) -> str:
    """The one rounding rule for every number the explorer prints or draws: 3 significant digits."""
    return f"{v:.3g}"


FIG_WIDTH = 5.5  # inches: 550 px at 100 dpi, beside the controls in a 1366x768 JupyterLab
FIG_HEIGHT = 4.2
FONT = WIDGET_FONT  # 10.5 points: 14.6 px at 100 dpi, shown at its natural size (issue 23: at least 14 px)


def _mosaic(maps: np.ndarray, ncols: int) -> np.ndarray:
    """Tile ``(n, h, w)`` maps row by row into one image with a NaN gap of one pixel."""
    n, h, w = maps.shape
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), np.nan)
    for k, m in enumerate(maps):
        r, c = divmod(k, ncols)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = m
    return out


def _norm(values: np.ndarray, signed: bool, scale: str):
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top if top > 0 else 1.0
    if not signed:
        return Normalize(0.0, max(top, 1e-12))
    if scale == "symlog":
        # linear within 1% of the largest value: noise stays pale; three decades above it
        return SymLogNorm(linthresh=top * 1e-2, linscale=0.3, vmin=-top, vmax=top, base=10)
    return Normalize(-top, top)


def _colour_ticks(norm) -> list[float]:
    """Colour-bar ticks that never print on top of each other: the ends, zero, and for a
    symmetric log scale the tenths (not the threshold, whose label would touch zero's)."""
    if isinstance(norm, SymLogNorm):
        top = norm.vmax
        return [-top, -top / 10, 0.0, top / 10, top]
    if norm.vmin < 0:
        return [norm.vmin, norm.vmin / 2, 0.0, norm.vmax / 2, norm.vmax]
    return [0.0, norm.vmax / 2, norm.vmax]


def _order(maps: np.ndarray) -> str:
    """How to read a mosaic of 6 maps (p) or 12 maps (q), numbered from 1 as everywhere in the book."""
    letter = "p" if len(maps) == 6 else "q"
    return f"maps {letter} = 1..{len(maps)}, left to right, row by row"


def _step_image(result: dict, step: str):
    """``(image, signed, how to read the tiles, extra bars or None)`` for one step."""
    if step in ("C1", "S1", "C2", "S2"):
        maps = result[step]
        return _mosaic(maps, 3 if len(maps) == 6 else 6), False, _order(maps), None
    if step == "dy_hat":
        return None, True, "", ("Δŷ by class 0..9", result["dy_hat"], 0)
    if step == "dW":
        return (result["dW"], True, "rows: classes 0..9\ncolumns: j = 1..192",
                ("Δb = Δŷ", result["db"], 0))
    if step == "df":
        return None, True, "", ("Δf(j), j = 1..192", result["df"], 1)
    if step in ("dS2", "dC2", "dC2_sigma", "dS1", "dC1", "dC1_sigma"):
        maps = result[step]
        return _mosaic(maps, 3 if len(maps) == 6 else 6), True, _order(maps), None
    if step == "dk2":
        k = result["dk2"]  # (6, 12, 5, 5): rows p = 1..6, columns q = 1..12
        return (_mosaic(k.reshape(72, 5, 5), 12), True, "rows p = 1..6, columns q = 1..12",
                ("Δb2, q = 1..12", result["db2"], 1))
    if step == "dk1":
        return _mosaic(result["dk1"], 3), True, "kernels p = 1..6, row by row", ("Δb1, p = 1..6", result["db1"], 1)
    raise ValueError(f"step must be one of {list(STEPS)}, got {step!r}")


def _check_patch(patch) -> None:
    """Raise ``ValueError`` unless ``patch`` is None or ``(row, col, size)``: integers, size >= 0."""
    if patch is None:
        return
    ok = (not isinstance(patch, (str, bytes)) and hasattr(patch, "__len__") and len(patch) == 3
          and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in patch) and patch[2] >= 0)
    if not ok:
        raise ValueError(f"patch must be None or (row, col, size), three integers with size >= 0, got {patch!r}")


def render(result: dict, step: str = "dC1_sigma", scale: str = "linear", *, true_class=None,
           patch=None, note: str = ""):
    """Draw one step of the pass for a :func:`explore` result.

    Left: the image as fed to the network and the ten outputs (the predicted class filled, the
    target of the loss outlined). Right: the step's array, signed values on a diverging colour
    scale centred on zero (``scale`` "linear", or "symlog" to keep small errors visible), with a
    labelled colour bar; vectors and biases as bars, with integer ticks in the book's index rule
    (classes 0..9, Zhang's p, q, j from 1). ``patch = (row, col, size)`` outlines an erased patch
    on the digit; ``note`` is added to the title. Returns the matplotlib Figure, :data:`FIG_WIDTH`
    inches wide (it fits beside the explorer's controls on a 1366x768 screen; no text under
    :data:`FONT` points, 14.6 px at the natural size).
    """
    if scale not in ("linear", "symlog"):
        raise ValueError(f"scale must be 'linear' or 'symlog', got {scale!r}")
    _check_patch(patch)
    image, signed, how, bars = _step_image(result, step)
    title, eq, _ = STEPS[step]
    fig = new_figure(FIG_WIDTH, FIG_HEIGHT)  # a plain Figure: shown once, not kept by pyplot
    both = bars is not None and image is not None
    grid = fig.add_gridspec(2, 3 if both else 2, width_ratios=[1.2, 2.0, 0.85] if both else [1.2, 2.7])
    ax_x = fig.add_subplot(grid[0, 0])
    ax_x.imshow(result["x"], cmap="gray_r", vmin=0, vmax=1)
    ax_x.set_xticks([]), ax_x.set_yticks([])
    if patch is not None and patch[2] > 0:
        row, col, size = patch
        ax_x.add_patch(Rectangle((col - 0.5, row - 0.5), size, size, fill=False, edgecolor="tab:orange",
                                 linewidth=1.5))
    ax_x.set_title("digit" if true_class is None else f"digit, class {true_class}", fontsize=FONT)
    ax_y = fig.add_subplot(grid[1, 0])
    colours = ["tab:blue" if c == result["predicted"] else "0.75" for c in range(10)]
    ax_y.bar(range(10), result["y_hat"], color=colours)
    ax_y.bar([result["target"]], [1.0], fill=False, edgecolor="tab:red", linewidth=1.5)
    ax_y.set_ylim(0, 1.05), ax_y.set_yticks([0, 0.5, 1]), ax_y.set_yticklabels(["0", ".5", "1"])
    ax_y.set_xticks(range(10))
    ax_y.set_xticklabels([str(c) for c in range(10)])
    ax_y.set_title(f"ŷ: predicted {result['predicted']}\nlabel {result['target']} (red)", fontsize=FONT)
    ax_y.tick_params(labelsize=FONT, pad=1, length=2)
    label = f"{title} ({eq})"
    if image is not None:
        ax = fig.add_subplot(grid[:, 1])
        norm = _norm(image, signed, scale)
        im = ax.imshow(image, cmap="RdBu_r" if signed else "viridis", norm=norm,
                       interpolation="nearest", aspect="auto" if step == "dW" else "equal")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"{label}\n{how}", fontsize=FONT)
        cb = fig.colorbar(im, ax=ax, shrink=0.8, location="bottom", pad=0.02, aspect=14)
        cb.set_ticks(_colour_ticks(norm))
        cb.set_ticklabels([number(t) if t else "0" for t in _colour_ticks(norm)])
        cb.set_label(("signed value, " + ("symlog scale" if scale == "symlog" else "linear scale"))
                     if signed else "activation", fontsize=FONT)
        cb.ax.tick_params(labelsize=FONT)
        if len(_colour_ticks(norm)) == 5:  # only the ends and zero are labelled: no crowding
            cb.ax.set_xticklabels([number(t) if i in (0, 2, 4) else "" for i, t in
                                   enumerate(_colour_ticks(norm))])
    if bars is not None:
        name, values, first = bars  # first: 0 for classes 0..9, 1 for Zhang's p, q, j counted from 1
        ax_b = fig.add_subplot(grid[:, 2] if image is not None else grid[:, 1])
        positions = np.arange(first, first + len(values))
        colours = np.where(values >= 0, "tab:red", "tab:blue")
        if len(values) <= 12:
            ax_b.bar(positions, values, color=colours)
        else:  # 192 bars thinner than a pixel: one line each, one artist (192 patches draw slowly)
            ax_b.vlines(positions, 0, values, colors=colours, linewidth=1.2)
            ax_b.set_xlim(first - 2, first + len(values) + 1)
        if len(values) <= 10:
            ax_b.set_xticks(positions)  # integer ticks: one per class or map
        elif len(values) <= 12:
            ax_b.set_xticks([first, first + len(values) // 2 - 1, first + len(values) - 1])
        else:
            ax_b.set_xticks([1, 48, 96, 144, 192] if len(values) == 192 else
                            [first, first + len(values) - 1])
        ax_b.axhline(0, color="black", linewidth=0.8)
        top = float(np.abs(values).max()) or 1.0
        power = power_of_ten(top)  # ticks in units of 10^power: short labels
        unit = "" if -1 <= power <= 1 else f"\n(×1e{power})"
        power = 0 if not unit else power
        ax_b.set_title((name if image is not None else f"{label}:\n{name}") + unit, fontsize=FONT)
        ax_b.tick_params(labelsize=FONT, pad=1, length=2)
        ticks = [-top, 0, top] if values.min() < 0 < values.max() else ([0, top] if values.max() > 0 else [-top, 0])
        ax_b.set_yticks(ticks)
        ax_b.set_yticklabels([number(t / 10.0**power) if t else "0" for t in ticks])
        if len(values) > 12:
            ax_b.set_xlabel("index j (f is the column scan of S2)", fontsize=FONT)
    fig.suptitle(f"L = {number(result['loss'])}" + (f"   ({note})" if note else ""), fontsize=FONT + 1)
    return fig
