"""Speed and scale: the fused training kernel, out-of-core training, image packing, fast loading.

- ``kernels``: ``fused_objective(X, y, loss)``, one pass over X per gradient-descent iteration
  (numba-compiled when the ``fast`` extra is installed, preallocated NumPy otherwise).
- ``streaming``: exact full-batch gradient descent and mini-batch SGD over an HDF5 file read in
  chunks, with bounded memory.
- ``pack``: an image folder -> one HDF5 file in the cat-data layout, decoded by worker processes.
- ``loader``: images decoded by worker processes in batches, for ``logicat predict``.
"""

from logicat.fast.kernels import HAVE_NUMBA, FusedObjective, fused_objective

__all__ = ["HAVE_NUMBA", "FusedObjective", "fused_objective"]
