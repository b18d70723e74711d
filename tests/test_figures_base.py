"""Tests for helpers.figures.base: symmetric colour limits, and figures that come out the same every time."""

import io

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import seed_cache  # noqa: E402

from helpers import figures  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def test_symmetric_limits_use_the_largest_magnitude():
    assert figures.symmetric_limits(np.array([[-0.5, 2.0], [0.1, -3.0]])) == (-3.0, 3.0)
    assert figures.symmetric_limits([np.array([0.5]), np.array([[-0.75, 0.0]])]) == (-0.75, 0.75)


def test_symmetric_limits_of_zeros_are_tiny_not_zero():
    vmin, vmax = figures.symmetric_limits(np.zeros((3, 3)))
    assert vmin == -vmax and vmax == 1e-12


def test_signed_norm_centres_zero():
    norm = figures.signed_norm(np.array([-1.0, 4.0]))
    assert norm.vmin == -norm.vmax == -4.0
    assert norm(0.0) == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf])])
def test_symmetric_limits_reject_non_finite(bad):
    with pytest.raises(ValueError, match="NaN or infinity"):
        figures.symmetric_limits(bad)


def test_figures_are_deterministic(rng):
    cache = seed_cache(rng)
    pngs = []
    for _ in range(2):
        buffer = io.BytesIO()
        figures.show_network_flow(cache, label=3).savefig(buffer, format="png")
        pngs.append(buffer.getvalue())
    assert pngs[0] == pngs[1]
