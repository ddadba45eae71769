"""What a model's predictions are worth and why it made them: ``metrics`` (accuracy, the
confusion matrix, log-loss, calibration, cross-validation) and ``explain`` (each prediction's
evidence, read from the layers: contributions, Grad-CAM or gradient x input)."""
