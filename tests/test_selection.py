"""helpers.selection: the paired rule that keeps a training change, on made-up numbers."""

import math

import numpy as np
import pytest

from helpers import selection


def test_a_consistent_gain_is_kept():
    old = [0.970, 0.975, 0.968, 0.972]
    new = [0.975, 0.979, 0.974, 0.976]          # differences 5, 4, 6, 4 thousandths
    mean, se, keep = selection.paired_gain(new, old)
    d = np.array([0.005, 0.004, 0.006, 0.004])
    assert mean == pytest.approx(d.mean()) and se == pytest.approx(d.std(ddof=1) / 2)
    assert keep and mean > 2 * se


def test_a_gain_inside_the_noise_is_not_kept():
    # mean gain +1 thousandth, but the differences swing by +-10: se = 5.8 thousandths
    old = [0.970, 0.975, 0.968, 0.972]
    new = [0.980, 0.965, 0.978, 0.966]
    mean, se, keep = selection.paired_gain(new, old)
    assert mean == pytest.approx(0.001) and se > mean and not keep


def test_pairing_removes_the_seed_to_seed_spread():
    """Seeds that differ a lot but change by the same amount: unpaired the gain would drown."""
    old = [0.90, 0.95, 0.99]
    new = [0.91, 0.96, 1.00]
    mean, se, keep = selection.paired_gain(new, old)
    assert mean == pytest.approx(0.01) and se == pytest.approx(0.0, abs=1e-12) and keep
    assert np.std(old, ddof=1) > 0.04        # the unpaired spread, four times the gain


def test_threshold_is_twice_the_standard_error():
    # differences 0.03, 0.01: mean 0.02, se = 0.01 -> exactly 2 se: not kept (strictly greater)
    mean, se, keep = selection.paired_gain([0.53, 0.51], [0.50, 0.50])
    assert (mean, se) == (pytest.approx(0.02), pytest.approx(0.01)) and not keep
    assert selection.paired_gain([0.53, 0.512], [0.50, 0.50])[2]
    assert not selection.paired_gain([0.5, 0.4], [0.5, 0.5])[2]      # a loss
    assert not selection.paired_gain([0.5, 0.5], [0.5, 0.5])[2]      # no change: the simpler stays


@pytest.mark.parametrize("new, old, match", [([0.5], [0.4], "at least 2"), ([0.5, 0.6], [0.5], "same length"),
                                             ([0.5, math.nan], [0.5, 0.5], "finite")])
def test_bad_inputs_are_refused(new, old, match):
    with pytest.raises(ValueError, match=match):
        selection.paired_gain(new, old)


def test_binomial_se_and_tolerance():
    assert selection.binomial_se(0.98, 800) == pytest.approx(math.sqrt(0.98 * 0.02 / 800))
    assert selection.binomial_se(0.98, 800) == pytest.approx(0.00495, abs=1e-5)   # half a point
    # a small measured spread: the binomial SE is the floor
    assert selection.rerun_tolerance(0.98, 800, 0.001) == pytest.approx(3 * math.sqrt(2) * 0.00495, abs=1e-5)
    # a large measured spread dominates
    assert selection.rerun_tolerance(0.98, 800, 0.02) == pytest.approx(3 * math.sqrt(2) * 0.02)
    assert selection.spread([0.5]) == 0.0 and selection.spread([0.4, 0.6]) == pytest.approx(math.sqrt(0.02))
    with pytest.raises(ValueError):
        selection.binomial_se(1.5, 10)
