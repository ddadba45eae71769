"""Compiled code only: the numba kernels behind the fast NumPy engine (the ``fast`` extra).

- ``fused``: cost and gradients of logistic regression in one pass over X (float or uint8
  pixels), split between threads; the chunk step of out-of-core training; X w and X^T d.

Importing numba costs a quarter of a second, so nothing here is imported until training needs
it; ``HAVE_NUMBA`` says whether it can be, without importing it.
"""

from importlib.util import find_spec

HAVE_NUMBA = find_spec("numba") is not None
