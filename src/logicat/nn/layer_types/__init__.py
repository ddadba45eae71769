"""Every layer type, one class each (``logicat.nn.layer``: what a type holds). Importing this
package registers them all; ``logicat.layers`` is where users build networks from them."""

from logicat.nn.layer import TYPES
from logicat.nn.layer_types import (  # noqa: F401  (each module registers its types)
    activations,
    conv,
    dense,
    normalization,
    pooling,
    residual,
    shaping,
)

#: the types' class names, for ``from logicat.layers import *``
__all__ = sorted(cls.__name__ for cls in TYPES.values())
globals().update({cls.__name__: cls for cls in TYPES.values()})
