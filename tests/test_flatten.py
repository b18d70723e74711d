"""helpers.flatten: the column scan F and its inverse (Zhang eqs. 10-11) against loops."""

import numpy as np
import pytest

from helpers.flatten import column_scan, column_unscan


def _scan_loops(maps):
    out = []
    for q in range(maps.shape[0]):
        for j in range(maps.shape[2]):
            for i in range(maps.shape[1]):
                out.append(maps[q, i, j])
    return np.array(out)


@pytest.mark.parametrize("n_maps", [12, 6])
def test_column_scan_matches_loops_and_inverts(n_maps):
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(3, n_maps, 4, 4))
    f = column_scan(maps)
    assert f.shape == (3, n_maps * 16)
    for n in range(3):
        np.testing.assert_array_equal(f[n], _scan_loops(maps[n]))
        np.testing.assert_array_equal(column_scan(maps[n]), f[n])
    np.testing.assert_array_equal(column_unscan(f, n_maps, 4), maps)
    np.testing.assert_array_equal(column_unscan(f[1], n_maps, 4), maps[1])


def test_column_scan_index_convention():
    maps = np.arange(12 * 16).reshape(12, 4, 4)
    f = column_scan(maps)
    q, i, j = 5, 1, 3
    assert f[q * 16 + j * 4 + i] == maps[q, i, j]


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="maps must have shape"):
        column_scan(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"f must have shape \(192,\)"):
        column_unscan(np.zeros(191), 12, 4)
