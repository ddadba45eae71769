"""logicat: is this a cat? Logistic regression as a neural network, built from first principles.

The packages, each importing only from the layers below it (docs/architecture.md):
core (errors, constraint tables, the one writer) -> nn (the layers, the families, the math, the
NumPy engine) and data (HDF5, image folders, features) -> engines (logicat's autograd, PyTorch,
numba) and io (the Model, model files, their validator) -> training (one loop, its solvers) and
evaluate (metrics, explanations) -> estimators and viz -> web -> cli.

Every name below is imported when it is first used (``from logicat import X`` imports only X's
module), so ``import logicat`` and ``logicat --help`` stay fast.
"""

__version__ = "0.1.0"

from logicat.core.lazy import lazy_exports  # noqa: E402
from logicat.core.machine import choose_threads  # noqa: E402

choose_threads()  # before torch or a BLAS starts its threads: leaves the user's settings alone

_WHERE = {
    **dict.fromkeys(["GradcheckResult", "gradcheck"], "logicat.engines.autograd.gradient_check"),
    **dict.fromkeys(["Tensor", "no_grad"], "logicat.engines.autograd.tensor"),
    **dict.fromkeys(["Checkpoint", "EarlyStopping", "GracefulInterrupt", "PrintCost",
                     "ProgressBar", "TerminateOnNaN", "TrainingInterrupted"],
                    "logicat.training.callbacks"),
    **dict.fromkeys(["FitResult", "Trainer", "TrainingState"], "logicat.training.loop"),
    "gradient_descent": "logicat.training.descent",
    **dict.fromkeys(["set_threads", "threads_in_use"], "logicat.core.machine"),
    **dict.fromkeys(["load_checkpoint", "save_checkpoint", "read_model", "save_model"],
                    "logicat.io.files"),
    **dict.fromkeys(["CatData", "download_catvnoncat", "file_sha256", "list_image_folder",
                     "load_catvnoncat", "load_h5_dataset", "load_image", "load_image_folder",
                     "load_images"], "logicat.data"),
    **dict.fromkeys(["DataFileError", "DivergenceError", "DownloadError", "ImageLoadError",
                     "LogicatError", "ModelFileError", "ParameterError", "ShapeError"],
                    "logicat.core.errors"),
    **dict.fromkeys(["ConvNetClassifier", "LogisticRegression", "MLPClassifier",
                     "NetworkClassifier", "fit_dataset", "load_model"],
                    "logicat.estimators"),
    **dict.fromkeys(["images_to_features", "unroll"], "logicat.data.features"),
    **dict.fromkeys(["cost_and_gradients", "cross_entropy", "log_sigmoid", "sigmoid",
                     "softplus", "squared_error"], "logicat.nn.loss"),
    **dict.fromkeys(["ClassificationMetrics", "accuracy_percent", "classification_metrics",
                     "cross_validate_metrics", "model_metrics"], "logicat.evaluate.metrics"),
    "Model": "logicat.model",
    "Network": "logicat.nn.network",
}
__all__ = ["__version__", *sorted(_WHERE)]
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
