"""helpers.explorer: the numbers and pictures of the backpropagation explorer, and its widget."""

import numpy as np
import pytest

from helpers import explorer, network
from helpers.drawing import perturb
from helpers.drawpad import DrawingPad


@pytest.fixture(scope="module")
def states():
    p0 = network.init_params(0)
    p1 = network.init_params(1)
    return {"untrained": p0, "other": p1}


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(30, 28, 28)) * (rng.uniform(size=(30, 28, 28)) > 0.7)
    return x, np.arange(30) % 10


def test_explore_matches_the_network_for_any_target(states, digits):
    x = digits[0][0]
    p = states["untrained"]
    for target in (0, 7):
        r = explorer.explore(p, x, target)
        y = np.eye(10)[target]
        cache = network.forward(p, x)
        grads = network.backward(p, cache, y)
        for k, v in grads.items():
            np.testing.assert_allclose(r["d" + k], v, rtol=1e-12, atol=1e-15)
        assert r["loss"] == pytest.approx(0.5 * ((cache["y_hat"] - y) ** 2).sum())
        assert r["predicted"] == int(np.argmax(cache["y_hat"])) and r["target"] == target
    s = explorer.summary(r)
    assert set(s["max_abs"]) == set(explorer.ERROR_LAYERS)
    assert s["max_abs"]["dC1_sigma"] == pytest.approx(np.abs(r["dC1_sigma"]).max())
    text = explorer.format_summary(r)
    assert "L = " in text and "predicted class" in text and "Δŷ" in text and "dy_hat" not in text
    with pytest.raises(ValueError, match="class 0..9"):
        explorer.explore(p, x, 10)
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        explorer.explore(p, x[None], 1)


@pytest.mark.parametrize("step", list(explorer.STEPS))
@pytest.mark.parametrize("scale", ["linear", "symlog"])
def test_render_every_step_fits_the_notebook(states, digits, step, scale, figure_font_px, no_pyplot_leak):
    r = explorer.explore(states["untrained"], digits[0][1], 3)
    fig = explorer.render(r, step, scale, true_class=1)
    width_px, smallest = figure_font_px(fig)
    assert width_px <= 560  # beside the explorer's 360 px of controls in a 1366x768 JupyterLab
    assert smallest >= 14  # px at the natural size the widget shows it at (issue 23)
    maps = [im for ax in fig.axes for im in ax.get_images() if im.get_cmap().name == "RdBu_r"]
    for im in maps:  # signed maps: diverging colours centred on zero, with a labelled colour bar
        assert im.norm.vmin == pytest.approx(-im.norm.vmax)
        assert im.colorbar is not None and "signed value" in im.colorbar.ax.get_xlabel()
        labels = [t.get_text() for t in im.colorbar.ax.get_xticklabels() if t.get_text()]
        assert len(labels) == 3 and labels[1] == "0"  # the ends and zero: labels never overlap
    for ax in fig.axes:  # bars: integer ticks in the book's index rule
        if ax.patches and ax.get_label() != "<colorbar>":
            ticks = ax.get_xticks()
            assert np.array_equal(ticks, np.round(ticks)), ticks
    if explorer.STEPS[step][2] == "backward" and step not in explorer.BARS_ONLY:
        assert maps


def test_widget_controls_change_the_result(states, digits):
    x, y = digits
    pad = DrawingPad()
    e = explorer.Explorer(states, x, y, pad=pad, digit=3, state="untrained", step="dC2")
    c = e.controls
    first = e.result
    assert first["target"] == 3 and np.array_equal(first["x"], x[3])
    c["label"].value = 5
    assert e.result["target"] == 5 and e.result["loss"] != first["loss"]
    c["state"].value = "other"
    assert e.result["loss"] != first["loss"]
    c["digit"].value = 4
    assert np.array_equal(e.result["x"], x[4]) and c["example"].max == 2
    c["example"].value = 2
    assert np.array_equal(e.result["x"], x[24])
    assert c["erase_row"].layout.display == "none"  # no patch: its position is hidden, not greyed
    c["erase_size"].value = 4
    assert c["erase_row"].layout.display is None and not e.result["x"][8:12, 8:12].any()
    c["kernel"].value = 2
    np.testing.assert_array_equal(e.editor.value, states["other"]["k1"][2])
    before = e.result["C1"][2].copy()
    edited = np.zeros((5, 5))
    edited[2, 2] = 1.0
    e.editor.value = edited
    assert not np.allclose(e.result["C1"][2], before)
    assert "largest |error|" in e.summary_html.value
    assert "k1 of map p=3 edited" in e.figure._suptitle.get_text()
    c["step"].value = "C1"
    assert c["scale"].layout.display == "none"  # forward maps are in [0, 1]: no signed scale to choose
    for step in explorer.BARS_ONLY:  # bars only: the colour scale would change nothing
        c["step"].value = step
        assert c["scale"].layout.display == "none"
    c["step"].value = "dk1"
    assert c["scale"].layout.display is None
    # a stroke on the pad switches to the drawing and disables the data-set controls
    pad.down(140, 40)
    pad.move(140, 240)
    pad.up()
    assert c["source"].value == "my drawing" and e.digit_box.layout.display == "none"
    assert e.pad_box.layout.display is None  # the pad shows beside the digit it feeds
    np.testing.assert_array_equal(e.result["x"], perturb(pad.value, erase_size=4, erase_at=(8, 8)))


def test_an_empty_pad_shows_draw_a_digit_and_no_prediction(states, digits):
    x, y = digits
    pad = DrawingPad()
    e = explorer.Explorer(states, x, y, pad=pad, digit=3, step="dC2")
    e.controls["source"].value = "my drawing"
    assert e.figure == e.figure_box.figure == explorer.EMPTY_PAD == "draw a digit"
    assert e.result is None and "predicted" not in e.summary_html.value
    assert "draw a digit" in e.summary_html.value
    pad.down(140, 40)
    pad.move(140, 240)
    pad.up()
    assert e.result is not None and "predicted" in e.summary_html.value
    pad.clear()
    assert e.figure == "draw a digit"


def test_the_untrained_state_says_the_maps_hardly_depend_on_the_digit(states, digits):
    x, y = digits
    e = explorer.Explorer({"untrained": states["untrained"], "trained": states["other"]}, x, y,
                          digit=3, step="dC2", state="trained")
    assert "hardly depend" not in e.summary_html.value
    e.controls["state"].value = "untrained"
    assert "hardly depend on the digit" in e.summary_html.value


def test_summary_and_figure_print_the_loss_alike_with_symbols(states, digits):
    x, y = digits
    e = explorer.Explorer(states, x, y, digit=3, step="dC2")
    drawn = e.figure._suptitle.get_text()
    assert drawn.startswith("L = ") and drawn.split()[2] == explorer.number(e.result["loss"])
    assert f"L = <b>{explorer.number(e.result['loss'])}</b>" in e.summary_html.value
    assert f"L = {explorer.number(e.result['loss'])}" in explorer.format_summary(e.result)
    for code, symbol in explorer.SYMBOLS.items():
        assert symbol in explorer.format_summary(e.result) and code + " " not in explorer.format_summary(e.result)


def test_kernel_presets_are_brought_into_the_trained_kernels_range(states):
    top = np.abs(states["other"]["k1"]).max()
    presets = explorer.trained_scale_presets(states)
    raw = explorer_presets = __import__("helpers.widgets", fromlist=["kernel_presets"]).kernel_presets(5)
    assert set(presets) == set(raw)
    for name, k in presets.items():
        assert np.abs(k).max() <= top + 1e-12
        np.testing.assert_allclose(k / np.abs(k).max(), raw[name] / np.abs(raw[name]).max())
    assert np.abs(raw["outline (Laplacian)"]).max() > top  # the case that was swamping
    del explorer_presets


def test_least_sure_finds_the_lowest_true_class_output(states, digits):
    x, y = digits
    p = states["untrained"]
    found = explorer.least_sure(p, x, y)
    y_hat = network.forward(p, x)["y_hat"]
    scores = y_hat[np.arange(len(y)), y]
    assert found["index"] == int(np.argmin(scores)) and found["digit"] == y[found["index"]]
    assert np.flatnonzero(y == found["digit"])[found["example"]] == found["index"]
    assert found["y_hat_true"] == pytest.approx(scores.min())


# --- issue 21: accepted inputs (item 8) and clear errors (item 16) -------------------------------
def test_explorer_reads_uint8_images_as_pixels_0_to_255(states, digits):
    x, y = digits
    pixels = np.round(x * 255).astype(np.uint8)
    e = explorer.Explorer(states, pixels, y, digit=3, state="untrained", step="dC2")
    np.testing.assert_array_equal(e.images, pixels / 255.0)
    np.testing.assert_array_equal(e.result["x"], pixels[3] / 255.0)
    with pytest.raises(ValueError, match=r"images .*divide .* by 255"):
        explorer.Explorer(states, pixels.astype(np.float64), y)
    with pytest.raises(ValueError, match=r"images .*divide .* by 255"):
        explorer.least_sure(states["untrained"], pixels.astype(np.float64), y)


def test_least_sure_and_explorer_refuse_images_and_labels_of_different_lengths(states, digits):
    x, y = digits
    with pytest.raises(ValueError, match=r"labels .*\(20,\).*\(10,\)|20 images.*10 labels"):
        explorer.least_sure(states["untrained"], x[:20], y[:10])
    with pytest.raises(ValueError, match=r"labels .*\(10,\).*\(30,\)|10 images.*30 labels"):
        explorer.Explorer(states, x[:10], y)


@pytest.mark.parametrize("labels, error", [
    (np.arange(30.0) % 10, TypeError),              # float labels
    (np.where(np.arange(30) == 4, 12, np.arange(30) % 10), ValueError),   # a label of 12
    (np.where(np.arange(30) == 4, -1, np.arange(30) % 10), ValueError),
    ((np.arange(30) % 10)[:, None], ValueError),    # not one label per image
])
def test_least_sure_and_explorer_refuse_labels_that_are_not_classes(states, digits, labels, error):
    x, _ = digits
    with pytest.raises(error, match="labels"):
        explorer.least_sure(states["untrained"], x, labels)
    with pytest.raises(error, match="labels"):
        explorer.Explorer(states, x, labels)


def test_explorer_offers_only_the_classes_its_labels_have(states, digits):
    x, y = digits
    keep = y != 3
    e = explorer.Explorer(states, x[keep], y[keep], state="untrained")  # the default digit 3 is absent
    assert list(e.controls["digit"].options) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert e.controls["digit"].value == 0 and e.result["x"].shape == (28, 28)
    with pytest.raises(ValueError, match="digit"):
        explorer.Explorer(states, x[keep], y[keep], digit=3)
    with pytest.raises(ValueError, match="example"):
        explorer.Explorer(states, x, y, digit=4, example=3)  # class 4 has 3 examples: 0..2


@pytest.mark.parametrize("patch", [(1, 2), (1, 2, 3, 4), 5, (1, 2, 1.5), (1, 2, -1)])
def test_render_refuses_a_patch_that_is_not_row_col_size(states, digits, patch, no_pyplot_leak):
    r = explorer.explore(states["untrained"], digits[0][1], 3)
    with pytest.raises((TypeError, ValueError), match="patch"):
        explorer.render(r, "C1", patch=patch)


def shown_controls(box):
    """The descriptions of every control inside an ipywidgets box, and the labels beside controls
    (left-out controls are absent)."""
    import ipywidgets

    out = []
    for child in getattr(box, "children", ()):
        if isinstance(child, ipywidgets.Label):
            out.append(child.value)
        elif hasattr(child, "value") and getattr(child, "description", ""):
            out.append(child.description)
        out += shown_controls(child)
    return out


@pytest.mark.parametrize("upto", list(explorer.UPTO))
def test_explorer_offers_the_steps_taught_so_far(states, digits, upto):
    x, y = digits
    e = explorer.Explorer(states, x, y, upto=upto)
    offered = [k for _, k in e.controls["step"].options]
    assert offered == list(explorer.UPTO[upto]) and e.controls["step"].value == offered[-1]
    assert offered == [k for k in explorer.STEPS if k in offered]  # in the order of the pass
    shown = shown_controls(e.widget)
    assert "digit from" not in shown  # no pad: no choice of source
    assert ("label in the loss" in shown) == (upto != "forward")
    assert ("colour scale" in shown) == (upto != "forward")
    if upto == "forward":
        assert "largest |error|" not in e.summary_html.value
    with pytest.raises(ValueError, match="steps of upto"):
        explorer.Explorer(states, x, y, upto=upto, step="dk1" if upto != "all" else "nope")
    with pytest.raises(ValueError, match="upto must be one of"):
        explorer.Explorer(states, x, y, upto="backward")
    assert explorer.UPTO["forward"] == ("C1", "S1", "C2", "S2")
    assert set(explorer.UPTO["pooling"]) - set(explorer.UPTO["fc"]) == {"dS2", "dC2"}


def test_preset_buttons_show_their_digit(states, digits):
    x, y = digits
    e = explorer.Explorer(states, x, y, presets={"first": 0, "hard one": 27}, held_out=[27], upto="fc")
    assert e.index() == 3 and "a training digit" in e.summary_html.value  # digit 3, example 0
    e.buttons["hard one"].click()
    assert e.index() == 27 and np.array_equal(e.result["x"], x[27]) and e.result["target"] == 7
    assert "image 27 of the collection (a held-out digit)" in e.summary_html.value
    e.buttons["first"].click()
    assert e.index() == 0 and np.array_equal(e.result["x"], x[0])
    with pytest.raises(ValueError, match="presets"):
        explorer.Explorer(states, x, y, presets={"bad": 30})


def test_least_sure_searches_only_among_the_given_indices(states, digits):
    x, y = digits
    p = states["untrained"]
    among = [4, 9, 14, 21]
    found = explorer.least_sure(p, x, y, among=among)
    scores = network.forward(p, x)["y_hat"][np.arange(len(y)), y]
    best = among[int(np.argmin(scores[among]))]
    assert found["index"] == best and found["y_hat_true"] == pytest.approx(scores[best])
    assert np.flatnonzero(y == y[best])[found["example"]] == best  # example counted in all of y


def test_book_explorer_and_digit_picker_choose_from_one_collection():
    from helpers import data, widgets

    images, labels = data.load_mnist_5k()
    e = explorer.book_explorer(upto="pooling")
    # the running example opens, read correctly by the trained network
    assert e.index() == explorer.RUNNING == e.start["index"] and labels[explorer.RUNNING] == 3
    assert e.result["predicted"] == 3 == e.start["predicted"]
    _, held_out = data.stratified_split(labels, 100, 0)
    assert explorer.RUNNING not in set(held_out) and "a training digit" in e.summary_html.value
    # the same (class, example) pair names the same image in the picker and in the explorer
    picker = widgets.digit_picker(labels, explorer.RUNNING)
    for digit, example in ((3, 0), (7, 12), (0, 499)):
        picker["digit"].value, picker["example"].value = digit, example
        e.controls["digit"].value, e.controls["example"].value = digit, example
        i = widgets.image_index(labels, picker["digit"].value, picker["example"].value)
        assert e.index() == i and np.array_equal(e.result["x"], images[i] / 255.0)
    # the hardest held-out digit is one click away
    y_hat = network.forward(e.states["trained"], images[held_out] / 255.0)["y_hat"]
    scores = y_hat[np.arange(len(held_out)), labels[held_out]]
    assert e.hardest["index"] == held_out[int(np.argmin(scores))]
    e.buttons[f"hardest held-out digit (image {e.hardest['index']})"].click()
    assert e.index() == e.hardest["index"] and "a held-out digit" in e.summary_html.value
    assert e.result["predicted"] != labels[e.hardest["index"]]  # misread: a digit worth a class's time


def test_bars_count_maps_from_one(states, digits):
    r = explorer.explore(states["untrained"], digits[0][1], 3)
    fig = explorer.render(r, "dk1")
    bars = fig.axes[-1]
    assert list(bars.get_xticks()) == [1, 2, 3, 4, 5, 6] and "p = 1..6" in bars.get_title()
    fig = explorer.render(r, "dy_hat")
    assert list(fig.axes[-1].get_xticks()) == list(range(10))
