"""Fixtures shared by the unit tests (the notebook environment lives in the root conftest.py)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def no_pyplot_leak():
    """The plotting helpers build plain Figures: pyplot's list of open figures must not grow."""
    import matplotlib.pyplot as plt  # imported here: only the figure tests need pyplot

    before = set(plt.get_fignums())
    yield
    after = set(plt.get_fignums())
    plt.close("all")
    assert after == before, "a plotting function registered a figure with pyplot"
