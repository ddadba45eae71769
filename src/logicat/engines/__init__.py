"""The engines beside NumPy's (``logicat.nn.forward`` / ``backward``, the reference): each one
interprets the same list of layers (``logicat.nn.layers``).

- ``autograd``: logicat's own automatic differentiation (the lesson's computation graph,
  dynamic and static, and its pictures)
- ``torch``: PyTorch - any list of layers as an ``nn.Module``, the fused loop, datasets,
  ``torch.distributed`` (imports torch; nothing here is imported until used)
- ``numba``: compiled kernels behind the NumPy engine's fast path (the ``fast`` extra)
"""
