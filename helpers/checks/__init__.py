"""Self-checks for the exercises, one module per topic, every check re-exported here.

``from helpers import checks`` and then ``checks.check_fc_backward(my_function)``: the check runs
the student's function on a few cases against an independent computation, prints one line per
case (``pass`` or what went wrong) and returns ``True`` when every case passes. The modules:

* :mod:`~helpers.checks.base`: :func:`run_cases` and the small pieces every check shares,
  and :func:`agree`, the printed proof that a loops version and a fast version agree;
* :mod:`~helpers.checks.feedback`: what a failing case prints beyond FAIL (expected versus got at
  the worst position, a hint for a known mistake, which function is not implemented yet).

Every check returns True only when every case passes and never raises, so an nbgrader test cell
can ``assert`` it; ``check_<thing>(fn, hidden=True)`` runs other cases (other sizes and numbers),
the ones a test cell keeps between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.

The modules of the checks:

* :mod:`~helpers.checks.convolution`: convolution and the seeds' indices (notebook 01), the
  gradients of the convolution layers (notebook 05);
* :mod:`~helpers.checks.forward`: the forward pass of the seed network (notebook 02);
* :mod:`~helpers.checks.fc`: the fully connected layer and seed 003's dense head (notebook 03);
* :mod:`~helpers.checks.pooling`: F^{-1} and the pooling layers backward (notebook 04);
* :mod:`~helpers.checks.training`: SGD, momentum, mini-batches, confusion matrix (notebook 06);
* :mod:`~helpers.checks.networks`: the networks of seeds 002 and 003 (notebooks 07, 08);
* :mod:`~helpers.checks.errata`: the errata appendix (notebook 09).
"""

from helpers.checks import base, convolution, errata, fc, forward, networks, pooling, training
from helpers.checks.base import *  # noqa: F401,F403
from helpers.checks.convolution import *  # noqa: F401,F403
from helpers.checks.errata import *  # noqa: F401,F403
from helpers.checks.fc import *  # noqa: F401,F403
from helpers.checks.forward import *  # noqa: F401,F403
from helpers.checks.networks import *  # noqa: F401,F403
from helpers.checks.pooling import *  # noqa: F401,F403
from helpers.checks.training import *  # noqa: F401,F403

__all__ = [*base.__all__, *convolution.__all__, *forward.__all__, *fc.__all__, *pooling.__all__,
           *training.__all__, *networks.__all__, *errata.__all__]
