"""Choosing between training settings by statistics that survive a re-run, in one place.

A training run of Zhang's network is chaotic: the same seed on another CPU (other SIMD rounding,
another BLAS thread count) ends a few digits of 800 away, about as far as another seed. So a
setting is compared with another over several seeds, *paired* (the same seeds for both: seed s
gives both runs the same initial weights, shuffles and augmentation draws), and

* :func:`paired_gain` -- the mean of the paired differences, its standard error and the rule's
  verdict: a change is **kept only if its mean gain exceeds twice that standard error**;
  otherwise the simpler setting (the one before the change) stays;
* :func:`binomial_se` -- the standard error of an accuracy measured on ``n`` digits;
* :func:`rerun_tolerance` -- how far a re-run of one stored accuracy may land: three standard
  deviations of the larger of (measured spread across seeds, binomial SE of the evaluation set)
  combined, used by the slow re-run tests.

Used by ``scripts/train_recipes.py``, ``scripts/class_setting.py`` and their tests.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["paired_gain", "spread", "binomial_se", "rerun_tolerance", "KEEP_FACTOR"]

#: a change is kept only if its mean paired gain exceeds KEEP_FACTOR standard errors
KEEP_FACTOR = 2.0


def paired_gain(new, old) -> tuple[float, float, bool]:
    """The paired comparison of a changed setting with the setting before it.

    Inputs:
    - new: accuracies of the changed setting, one per seed, shape (S,), S >= 2
    - old: accuracies of the setting before the change, the same seeds in the same order, (S,)

    Returns ``(mean, se, keep)``: ``mean`` = mean of d_s = new_s - old_s; ``se`` = sample standard
    deviation of the d_s (ddof 1) / sqrt(S); ``keep`` = ``mean > KEEP_FACTOR * se`` (so a gain
    that is not positive is never kept, and with se = 0 any positive gain is).
    """
    a = np.asarray(new, dtype=np.float64)
    b = np.asarray(old, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"new and old must be 1-D with the same length (one value per seed), "
                         f"got shapes {a.shape} and {b.shape}")
    if a.size < 2:
        raise ValueError(f"a paired comparison needs at least 2 seeds, got {a.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("accuracies must be finite numbers")
    d = a - b
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(d.size))
    return mean, se, bool(mean > KEEP_FACTOR * se)


def spread(values) -> float:
    """Sample standard deviation (ddof 1) of accuracies over seeds; 0.0 for a single value."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.std(ddof=1)) if v.size > 1 else 0.0


def binomial_se(accuracy: float, n: int) -> float:
    """Standard error sqrt(p (1 - p) / n) of an accuracy ``p`` measured on ``n`` digits."""
    if not 0.0 <= accuracy <= 1.0 or n < 1:
        raise ValueError(f"need 0 <= accuracy <= 1 and n >= 1, got {accuracy}, {n}")
    return math.sqrt(accuracy * (1.0 - accuracy) / n)


def rerun_tolerance(accuracy: float, n: int, seed_spread: float, *, k: float = 3.0) -> float:
    """How far a re-run of a stored accuracy may land on another CPU: ``k`` standard deviations of
    the difference of two runs, sqrt(2) * max(seed_spread, binomial_se(accuracy, n)).

    A re-run with the same seed on another CPU is, after enough chaotic steps, no closer to the
    stored run than another seed is (``seed_spread``, measured and stored beside the figure); the
    binomial SE of the evaluation set is a floor for spreads measured on few seeds.
    """
    return k * math.sqrt(2.0) * max(seed_spread, binomial_se(accuracy, n))
