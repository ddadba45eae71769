"""logicat's own automatic differentiation: a computation graph over NumPy arrays.

- ``tensor``: ``Tensor``, the define-by-run graph and reverse-mode ``backward()`` (PyTorch's way).
- ``static``: placeholders, a graph captured once and run many times with fed data
  (TensorFlow 1.x's define-and-run way), giving exactly the same numbers.
- ``conv``: the image ops, each forward rule beside its backward rule: ``conv2d`` (im2col),
  ``max_pool2d``, ``batch_norm`` (training and evaluation), dropout with a given mask.
- ``layers``: ``LayerGraph``, the cost of any list of layers (``logicat.nn.layers``, the list
  every engine reads) with its tensors by name: it loops over the list, and each layer type's
  expression in this engine is its own ``autograd`` method (``logicat.nn.layer_types``), beside
  its NumPy forward and backward (checked against torch step by step, and against NumPy's
  hand-derived gradients).
- ``gradient_check``: ``gradcheck``, autograd gradients against central finite differences.
- ``graphs``: the cost of any network as a graph (the "autograd" engine's forward pass) and the
  lesson's small graphs.
- ``draw``: pictures of a graph (text, DOT, SVG, PNG); it reads the graph, it is not in it.
"""

from logicat.core.lazy import lazy_exports

_WHERE = {
    "LayerGraph": "logicat.engines.autograd.layers",
    "Tensor": "logicat.engines.autograd.tensor",
    "no_grad": "logicat.engines.autograd.tensor",
    "GradcheckResult": "logicat.engines.autograd.gradient_check",
    "gradcheck": "logicat.engines.autograd.gradient_check",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
