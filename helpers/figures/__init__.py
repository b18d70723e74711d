"""Figures for the book, one module per topic, every public name re-exported here.

``from helpers import figures`` and then ``figures.show_maps(...)``: a notebook never needs to
know which module a figure lives in. The modules:

* :mod:`~helpers.figures.base`: colour maps, symmetric colour limits, image grids, mosaics
  (the building blocks every other module uses);
* :mod:`~helpers.figures.maps`: feature maps, kernels, digits, vectors, a whole forward pass,
  arrays side by side;
* :mod:`~helpers.figures.convolution`: a worked convolution, kernel placement, initial weights,
  kernel gradients term by term (notebooks 01, 02, 05);
* :mod:`~helpers.figures.dense`: the gradient of the fully connected layer (notebook 03);
* :mod:`~helpers.figures.pooling`: the column scan F and the error through pooling (notebook 04);
* :mod:`~helpers.figures.training`: curves, confusion matrices, mistakes, learned kernels
  (notebooks 06-08);
* :mod:`~helpers.figures.networks`: the networks of seeds 002 and 003 (notebooks 07, 08);
* :mod:`~helpers.figures.layout`: fixed layouts for the figures widgets redraw (axes placed in
  inches, no layout engine: fast, with text a projector shows at 14 px). Not re-exported:
  ``from helpers.figures import layout``.

Every function returns a :class:`matplotlib.figure.Figure` (see :mod:`helpers.figures.base` for
the conventions: signed data on a diverging scale centred on zero, 1-based panel labels).
"""

from helpers.figures import base, convolution, dense, layout, maps, networks, pooling, training
from helpers.figures.base import *  # noqa: F401,F403
from helpers.figures.convolution import *  # noqa: F401,F403
from helpers.figures.dense import *  # noqa: F401,F403
from helpers.figures.maps import *  # noqa: F401,F403
from helpers.figures.networks import *  # noqa: F401,F403
from helpers.figures.pooling import *  # noqa: F401,F403
from helpers.figures.training import *  # noqa: F401,F403

__all__ = [*base.__all__, *maps.__all__, *convolution.__all__, *dense.__all__, *pooling.__all__,
           *training.__all__, *networks.__all__]
