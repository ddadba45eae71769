"""A trained model as an object and as files: ``model`` (``Model``: the layers, their tensors
and the output step), ``files`` (model files and checkpoints, safetensors with a JSON header),
``validate`` and ``validate_checkpoint`` (what a file must hold before anything uses it, read
from the same tables training checks) and ``onnx`` (a model file as an ONNX graph)."""
