"""logicat's own automatic differentiation: a computation graph over NumPy arrays.

- ``engine``: ``Tensor``, the define-by-run graph and reverse-mode ``backward()`` (PyTorch's way).
- ``static``: placeholders, a graph captured once and run many times with fed data
  (TensorFlow 1.x's define-and-run way), giving exactly the same numbers.
- ``gradcheck``: autograd gradients against central finite differences.
- ``objective``: the "autograd" engine behind ``LogisticRegression(engine="autograd")``.
- ``loops``: the lesson's first, non-vectorized version of the cost and gradients.

Drawing the graph lives outside the engine, in ``logicat.draw``.
"""

from logicat.autograd.engine import Tensor, no_grad
from logicat.autograd.gradient_check import GradcheckResult, gradcheck

__all__ = ["GradcheckResult", "Tensor", "gradcheck", "no_grad"]
