"""The ConvNet end to end, in tests that are no one module's: its file through every command
(``test_cli.py``), its steps in logicat's own engine against PyTorch's (``test_engines.py``), and
an ensemble of ConvNets from fit to file, ONNX and explanations (``test_ensemble.py``). What tests
one module is at that module's mirrored path (``tests/nn/test_convnet.py``,
``tests/estimators/test_convnet.py``, ...)."""
