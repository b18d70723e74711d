"""Tests for helpers.widgets, headless: widgets build without a display, moving a control calls
the plain render function again with the new values, the kernel editor round-trips arrays."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import digit_trace  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import figures, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FakeRender:
    """A render function that records every call and returns a small real figure."""

    def __init__(self, use_pyplot=False):
        self.calls = []
        self.use_pyplot = use_pyplot

    def __call__(self, **values):
        self.calls.append(values)
        if self.use_pyplot:
            fig, ax = plt.subplots()
            ax.plot([0, 1])
            return fig
        return figures.show_maps(np.full((1, 2, 2), float(len(self.calls))))


# --- interactive_figure ----------------------------------------------------------------------


def test_interactive_figure_draws_once_and_again_on_every_change():
    render = FakeRender()
    box = widgets.interactive_figure(render, digit=ipywidgets.IntSlider(min=0, max=9),
                                     layer=widgets.layer_dropdown())
    assert isinstance(box, ipywidgets.VBox)
    assert box.output in box.children
    assert render.calls == [{"digit": 0, "layer": "C1"}]
    box.controls["digit"].value = 4
    box.controls["layer"].value = "S2"
    assert render.calls[1:] == [{"digit": 4, "layer": "C1"}, {"digit": 4, "layer": "S2"}]
    assert box.values() == {"digit": 4, "layer": "S2"}
    # the figure kept is the one from the last call
    assert box.figure.axes[0].images[0].get_array()[0, 0] == 3.0


def test_setting_the_same_value_does_not_redraw():
    render = FakeRender()
    box = widgets.interactive_figure(render, digit=ipywidgets.IntSlider(value=2, min=0, max=9))
    box.controls["digit"].value = 2
    assert len(render.calls) == 1


def test_shorthand_controls_become_the_right_widgets():
    render = FakeRender()
    toggle = ipywidgets.ToggleButtons(options=["max", "average"], value="max")
    box = widgets.interactive_figure(render, n=(1, 5), rate=(0.01, 1.0), mode=["a", "b"],
                                     flip=True, pool=toggle)
    kinds = {name: type(c) for name, c in box.controls.items()}
    assert kinds == {"n": ipywidgets.IntSlider, "rate": ipywidgets.FloatSlider,
                     "mode": ipywidgets.Dropdown, "flip": ipywidgets.Checkbox,
                     "pool": ipywidgets.ToggleButtons}
    assert box.controls["pool"] is toggle
    assert render.calls[0] == {"n": 1, "rate": 0.01, "mode": "a", "flip": True, "pool": "max"}
    assert box.controls["n"].max == 5 and box.controls["rate"].max == 1.0
    toggle.value = "average"
    assert render.calls[-1]["pool"] == "average"


def test_controls_can_sit_left_of_the_figure():
    box = widgets.interactive_figure(FakeRender(), controls_position="left", n=(0, 3))
    (row,) = box.children
    assert isinstance(row, ipywidgets.HBox) and box.output in row.children


@pytest.mark.parametrize("spec", ["C1", (3, 1), [], ipywidgets.Button(description="no value")])
def test_bad_controls_are_rejected(spec):
    with pytest.raises((TypeError, ValueError), match="control 'x'|min must be"):
        widgets.interactive_figure(FakeRender(), x=spec)


def test_interactive_figure_argument_errors():
    with pytest.raises(TypeError, match="render must be callable"):
        widgets.interactive_figure(None, n=(0, 3))
    with pytest.raises(ValueError, match="at least one control"):
        widgets.interactive_figure(FakeRender())


def test_an_error_in_render_surfaces_when_the_widget_is_built():
    def broken(n):
        raise ValueError("bad n")

    with pytest.raises(ValueError, match="bad n"):
        widgets.interactive_figure(broken, n=(0, 3))


def test_old_pyplot_figures_are_closed():
    render = FakeRender(use_pyplot=True)
    box = widgets.interactive_figure(render, n=(0, 5))
    for value in range(1, 6):
        box.controls["n"].value = value
    assert len(render.calls) == 6
    assert plt.get_fignums() == []


# --- ready-made controls ---------------------------------------------------------------------


def test_layer_dropdown_defaults_to_the_seed_layers():
    dropdown = widgets.layer_dropdown()
    assert list(dropdown.options) == ["C1", "S1", "C2", "S2"] and dropdown.value == "C1"
    assert widgets.layer_dropdown(["S1", "S2"], value="S2").value == "S2"
    with pytest.raises(ValueError, match="one of"):
        widgets.layer_dropdown(["S1"], value="C1")


@pytest.mark.parametrize("size", [3, 5])
def test_kernel_presets(size):
    presets = widgets.kernel_presets(size)
    for name, k in presets.items():
        assert k.shape == (size, size), name
    assert presets["identity"].sum() == 1.0 and presets["identity"][size // 2, size // 2] == 1.0
    assert presets["box blur"].sum() == pytest.approx(1.0)
    assert presets["outline (Laplacian)"].sum() == pytest.approx(0.0)
    assert presets["sharpen"].sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(presets["horizontal edge"], presets["vertical edge"].T)
    # cross-correlating a dark-to-bright step (left to right) with "vertical edge" is positive
    step = np.zeros((size, size + 1))
    step[:, size // 2 + 1:] = 1.0
    response = sum(presets["vertical edge"][u, v] * step[u, v + j]
                   for u in range(size) for v in range(size) for j in range(2))
    assert response > 0
    with pytest.raises(ValueError, match="size must be 3 or 5"):
        widgets.kernel_presets(4)


# --- kernel editor ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 5])
def test_kernel_editor_round_trips_an_array(size):
    editor = widgets.kernel_editor(size)
    k = np.random.default_rng(size).normal(size=(size, size)).round(3)
    widgets.set_kernel(editor, k)
    got = widgets.read_kernel(editor)
    np.testing.assert_array_equal(got, k)
    np.testing.assert_array_equal(editor.value, k)
    assert got.dtype == np.float64 and editor.preset.value == "custom"
    assert len(editor.cells) == size * size


def test_kernel_editor_starts_from_a_named_preset_or_an_array():
    editor = widgets.kernel_editor(3, "vertical edge")
    np.testing.assert_array_equal(editor.value, widgets.kernel_presets(3)["vertical edge"])
    start = np.arange(9.0).reshape(3, 3)
    from_array = widgets.kernel_editor(3, start)
    np.testing.assert_array_equal(widgets.read_kernel(from_array), start)
    assert from_array.preset.value == "custom"
    with pytest.raises(ValueError, match="preset must be one of"):
        widgets.kernel_editor(3, "blurry")
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        widgets.kernel_editor(3, np.ones((5, 5)))


def test_kernel_editor_typing_and_presets_update_value():
    editor = widgets.kernel_editor(3, "identity")
    editor.cells[0].value = 2.5  # the student types into the top-left box
    assert editor.value[0, 0] == 2.5 and editor.preset.value == "custom"
    editor.preset.value = "box blur"
    np.testing.assert_allclose(editor.value, np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(widgets.read_kernel(editor), np.full((3, 3), 1 / 9))
    editor.value = np.eye(3)  # assigning value fills the boxes
    np.testing.assert_array_equal(widgets.read_kernel(editor), np.eye(3))
    with pytest.raises(ValueError):
        editor.value.fill(0.0)  # read-only: a render function cannot change the editor


def test_kernel_editor_drives_an_interactive_figure_once_per_edit():
    editor = widgets.kernel_editor(3, "identity")
    seen = []

    def render(kernel, signed):
        seen.append(np.array(kernel))
        return figures.show_kernels(kernel[None], signed=signed)

    box = widgets.interactive_figure(render, kernel=editor, signed=True,
                                     controls_position="left")
    assert len(seen) == 1
    editor.preset.value = "vertical edge"  # nine boxes change, one redraw
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[-1], widgets.kernel_presets(3)["vertical edge"])
    editor.cells[4].value = 7.0
    assert len(seen) == 3 and seen[-1][1, 1] == 7.0
    assert box.figure is not None


def test_read_and_set_kernel_need_an_editor():
    with pytest.raises(TypeError, match="kernel_editor"):
        widgets.read_kernel(ipywidgets.VBox())
    with pytest.raises(TypeError, match="kernel_editor"):
        widgets.set_kernel(np.eye(3), np.eye(3))


@pytest.mark.parametrize("spec, kind, value", [
    ((0, 9), ipywidgets.IntSlider, 0),
    ((1, 9, 2), ipywidgets.IntSlider, 1),
    ((0.0, 1.0), ipywidgets.FloatSlider, 0.0),
    (["C1", "S1"], ipywidgets.Dropdown, "C1"),
    (True, ipywidgets.Checkbox, True),
    (np.bool_(False), ipywidgets.Checkbox, False),
])
def test_make_control_turns_shorthands_into_widgets(spec, kind, value):
    control = widgets.make_control("digit", spec)
    assert type(control) is kind
    assert control.value == value and control.description == "digit"


def test_make_control_passes_widgets_through():
    slider = ipywidgets.IntSlider()
    assert widgets.make_control("a", slider) is slider


@pytest.mark.parametrize("spec, error", [((3, 3), ValueError), ((5, 1), ValueError), ([], TypeError),
                                         ("abc", TypeError), ((0, 1, 2, 3), TypeError),
                                         (ipywidgets.Button(), TypeError)])
def test_make_control_rejects_bad_specs(spec, error):
    with pytest.raises(error):
        widgets.make_control("a", spec)


def test_checkpoint_slider_covers_every_checkpoint():
    slider = widgets.checkpoint_slider(11)
    assert (slider.min, slider.max, slider.value, slider.step) == (0, 10, 10, 1)
    assert slider.description == "epoch" and slider.continuous_update is False
    assert widgets.checkpoint_slider(11, value=0).value == 0


@pytest.mark.parametrize("n, value", [(0, None), (True, None), (2.0, None), (3, 3), (3, -1), (3, 1.0)])
def test_checkpoint_slider_rejects_bad_arguments(n, value):
    with pytest.raises((TypeError, ValueError)):
        widgets.checkpoint_slider(n, value)


def test_checkpoint_explorer_redraws_the_snapshot_when_the_slider_moves(rng):
    trace = digit_trace(rng)
    x = rng.random((28, 28))
    explorer = widgets.checkpoint_explorer(trace, x, label=2, value=0)
    assert isinstance(explorer, ipywidgets.VBox)
    slider = explorer.controls["epoch"]
    assert (slider.min, slider.max, slider.value) == (0, 2, 0)
    first = explorer.figure
    assert isinstance(first, Figure) and first.get_suptitle().startswith("before training")
    axes, redraws = len(first.axes), explorer.redraws
    slider.value = 2
    assert explorer.redraws == redraws + 1
    # one figure per widget, redrawn in place: no axes added, the new checkpoint shown
    assert explorer.figure is first and len(first.axes) == axes
    assert explorer.figure.get_suptitle().startswith("after epoch 2")
    np.testing.assert_allclose([p.get_height() for p in first.axes[1].patches], trace["y_hat"][2])
    static = explorer.render(epoch=1)
    assert static.get_suptitle().startswith("after epoch 1")


def test_checkpoint_explorer_needs_a_trace():
    with pytest.raises(TypeError):
        widgets.checkpoint_explorer({"k1": np.zeros((1, 6, 5, 5))}, np.zeros((28, 28)))


def test_multi_size_kernel_editor_follows_size_and_edits():
    presets = {3: {"a": np.ones((3, 3))}, 5: {"b": np.full((5, 5), 2.0)}}
    editor = widgets.multi_size_kernel_editor(presets=presets)
    seen = []
    editor.observe(lambda change: seen.append(change["new"].shape), names="value")
    np.testing.assert_array_equal(editor.value, np.ones((3, 3)))
    assert editor.editors[5].layout.display == "none"
    editor.size_buttons.value = 5
    np.testing.assert_array_equal(editor.value, np.full((5, 5), 2.0))
    assert editor.editors[3].layout.display == "none" and editor.editors[5].layout.display is None
    editor.editors[5].cells[0].value = 7.0
    assert editor.value[0, 0] == 7.0
    editor.editors[3].cells[0].value = -1.0  # hidden editor: does not change the value
    assert editor.value.shape == (5, 5) and editor.value[0, 0] == 7.0
    assert seen[:2] == [(5, 5), (5, 5)]


def test_multi_size_kernel_editor_drives_interactive_figure():
    calls = []

    def render(kernel):
        calls.append(kernel.shape)
        return figures.new_figure(1, 1)

    editor = widgets.multi_size_kernel_editor()
    widgets.interactive_figure(render, kernel=editor)
    editor.size_buttons.value = 5
    assert calls == [(3, 3), (5, 5)]


def test_multi_size_kernel_editor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sizes"):
        widgets.multi_size_kernel_editor(sizes=(3, 3))
    with pytest.raises(ValueError, match="not in sizes"):
        widgets.multi_size_kernel_editor(presets={7: {"x": np.zeros((7, 7))}})
    with pytest.raises(ValueError, match="size must be one of"):
        widgets.multi_size_kernel_editor(size=4)


def test_digit_picker_chooses_class_then_example():
    labels = np.array([3, 1, 3, 0, 1, 3])
    picker = widgets.digit_picker(labels, index=5)
    digit, example = picker["digit"], picker["example"]
    assert digit.description == "digit: class" and example.description == "example of that class"
    assert (digit.value, example.value, example.max) == (3, 2, 2)
    assert widgets.image_index(labels, digit.value, example.value) == 5
    digit.value = 0  # only one example of class 0: the slider follows
    assert (example.value, example.max) == (0, 0)
    assert widgets.image_index(labels, 0, 0) == 3
    with pytest.raises(ValueError, match="example"):
        widgets.image_index(labels, 1, 2)
    with pytest.raises(ValueError, match="index"):
        widgets.digit_picker(labels, index=6)


def test_checkpoint_explorer_scales_and_digit_choice(rng, monkeypatch):
    import helpers.train

    trace = digit_trace(rng)
    images = (rng.random((4, 28, 28)) * 255).astype(np.uint8)
    labels = np.array([2, 5, 2, 5])
    traced = []

    def fake_trace(checkpoints, x, label):
        traced.append(label)
        return digit_trace(np.random.default_rng(label))

    monkeypatch.setattr(helpers.train, "digit_trace", fake_trace)
    box = widgets.checkpoint_explorer(trace, images[0] / 255, 2, value=2, checkpoints=[{}] * 3, images=images,
                                      labels=labels, index=0)
    assert set(box.controls) == {"epoch", "scale", "digit", "example"}
    assert box.controls["scale"].value == "this epoch"
    assert traced == []  # the starting digit uses the given trace
    bars = [ax for ax in box.figure.axes if ax.get_label() == "<colorbar>"]
    assert bars[-1].get_ylabel() == "error (scale of this epoch)"
    box.controls["scale"].value = "symlog"
    assert "symmetric log" in [ax for ax in box.figure.axes if ax.get_label() == "<colorbar>"][-1].get_ylabel()
    box.controls["digit"].value = 5
    assert traced == [5] and "label 5" in box.figure.axes[0].get_title()
    with pytest.raises(TypeError, match="together"):
        widgets.checkpoint_explorer(trace, images[0], 2, checkpoints=[{}] * 3)


def test_examples_by_class_lists_each_class_in_data_set_order():
    by_class = widgets.examples_by_class([3, 1, 3, 0, 1, 3])
    assert sorted(by_class) == [0, 1, 3]
    assert [list(by_class[c]) for c in (0, 1, 3)] == [[3], [1, 4], [0, 2, 5]]
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        widgets.examples_by_class(np.zeros((2, 2), dtype=int))


# --- coalescing, messages, placeholders, sharp PNG --------------------------------------------


def test_rapid_changes_coalesce_into_one_redraw_with_the_last_values():
    render, waiting = FakeRender(), []
    box = widgets.InteractiveFigure(render, {"digit": ipywidgets.IntSlider(min=0, max=9)},
                                    schedule=waiting.append)  # a kernel loop that has not run yet
    for v in (1, 2, 3, 4, 5):  # five quick moves of the slider
        box.controls["digit"].value = v
    assert len(waiting) == 1 and len(render.calls) == 1  # one redraw asked for, none run yet
    waiting.pop()()
    assert render.calls[1:] == [{"digit": 5}] and box.redraws == 2
    box.controls["digit"].value = 6  # a later move asks again
    assert len(waiting) == 1
    waiting.pop()()
    assert render.calls[-1] == {"digit": 6} and box.redraws == 3


def test_a_render_may_answer_with_a_message_instead_of_a_figure():
    box = widgets.InteractiveFigure(lambda n: "draw a digit" if n == 0 else figures.show_maps(np.ones((1, 2, 2))),
                                    {"n": ipywidgets.IntSlider(min=0, max=1)})
    assert box.figure == "draw a digit"
    out = widgets.figure_output(box.figure)
    assert "draw a digit" in out["data"]["text/html"] and "image/png" not in out["data"]
    box.controls["n"].value = 1
    assert isinstance(box.figure, Figure)


def test_figures_are_sent_as_png_at_twice_their_pixels_and_shown_at_natural_size():
    import base64
    import struct

    fig = figures.show_maps(np.ones((1, 2, 2)))
    out = widgets.figure_output(fig)
    png = base64.b64decode(out["data"]["image/png"])
    width, height = struct.unpack(">II", png[16:24])
    shown = out["metadata"]["image/png"]
    assert (width, height) == (2 * shown["width"], 2 * shown["height"])
    assert shown["width"] == round(fig.get_figwidth() * fig.dpi)
    # what a browser test needs to compute the smallest text on screen
    assert out["metadata"]["book/figure"] == {"smallest_text_pt": figures.smallest_text(fig), "dpi": 2 * fig.dpi}


def test_a_widget_cell_not_yet_run_shows_one_friendly_line():
    box = widgets.interactive_figure(FakeRender(), digit=(0, 9))
    assert repr(box) == widgets.PLACEHOLDER == "interactive figure: run this cell"
    assert box._repr_mimebundle_()["text/plain"] == widgets.PLACEHOLDER
    assert repr(widgets.BookBox([], placeholder="drawing pad: run this cell")) == "drawing pad: run this cell"


def test_every_widget_figure_has_text_a_projector_shows_at_14_px():
    # a render that writes 6-point text: titles, cell values, tick labels made at draw time
    def render(n):
        fig = Figure(figsize=(4, 3), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        ax.plot(np.arange(n))
        ax.set_title("six points", fontsize=6)
        ax.text(0, 0, "cell", fontsize=6)
        ax.tick_params(labelsize=6)
        fig.suptitle("large stays large", fontsize=16)
        return fig

    assert figures.smallest_text(render(3)) == 6.0
    box = widgets.interactive_figure(render, n=(2, 40))
    box.controls["n"].value = 40  # more ticks than the first draw had
    box.figure.canvas.draw()
    points = figures.smallest_text(box.figure)
    assert points * box.figure.dpi / 72 >= figures.PROJECTED_TEXT_PX == 14.0
    assert box.figure.get_suptitle() == "large stays large"
    assert max(t.get_fontsize() for t in box.figure.texts) == 16.0
    # the plain render function is untouched: static cells keep their design
    assert figures.smallest_text(render(3)) == 6.0


def test_raise_small_text_counts_only_visible_text():
    fig = figures.show_maps(np.ones((2, 3, 3)))
    fig.canvas.draw()
    before = figures.smallest_text(fig)
    assert before < figures.projected_points(fig)
    figures.raise_small_text(fig, 11.0)
    fig.canvas.draw()
    assert figures.smallest_text(fig) == 11.0
    assert figures.smallest_text(Figure()) == float("inf")


def test_a_figure_without_text_reports_no_text_size():
    import json

    out = widgets.figure_output(Figure(figsize=(1, 1)))
    assert out["metadata"]["book/figure"]["smallest_text_pt"] is None
    json.dumps(out, allow_nan=False)  # valid JSON for the browser
