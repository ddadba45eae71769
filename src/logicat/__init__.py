"""logicat: is this a cat? Logistic regression as a neural network, built from first principles.

The layers, each importing only from the ones before it:
data (HDF5, image folders, single images) -> features (unroll, scale) -> loss (sigmoid, losses,
cost and gradients) -> optim (gradient descent) -> engines -> estimator (LogisticRegression)
-> model files -> CLI, plots, web.
"""

__version__ = "0.1.0"

from logicat.autograd import GradcheckResult, Tensor, gradcheck, no_grad
from logicat.callbacks import (
    Checkpoint,
    EarlyStopping,
    GracefulInterrupt,
    PrintCost,
    ProgressBar,
    TerminateOnNaN,
    TrainingInterrupted,
)
from logicat.checkpoint import load_checkpoint, save_checkpoint
from logicat.data import (
    CatData,
    download_catvnoncat,
    file_sha256,
    list_image_folder,
    load_catvnoncat,
    load_h5_dataset,
    load_image,
    load_image_folder,
    load_images,
)
from logicat.errors import (
    DataFileError,
    DivergenceError,
    DownloadError,
    ImageLoadError,
    LogicatError,
    ModelFileError,
)
from logicat.estimator import LogisticRegression
from logicat.features import images_to_features, unroll
from logicat.loss import (
    cost_and_gradients,
    cross_entropy,
    log_sigmoid,
    sigmoid,
    squared_error,
)
from logicat.metrics import (
    ClassificationMetrics,
    classification_metrics,
    cross_validate_metrics,
    model_metrics,
)
from logicat.model_io import load_model, save_model
from logicat.optim import GDResult, Trainer, TrainingState, gradient_descent

__all__ = [
    "__version__",
    "CatData",
    "Checkpoint",
    "EarlyStopping",
    "GDResult",
    "GracefulInterrupt",
    "PrintCost",
    "ProgressBar",
    "TerminateOnNaN",
    "Trainer",
    "TrainingInterrupted",
    "ClassificationMetrics",
    "GradcheckResult",
    "Tensor",
    "DataFileError",
    "DivergenceError",
    "DownloadError",
    "ImageLoadError",
    "LogicatError",
    "LogisticRegression",
    "ModelFileError",
    "TrainingState",
    "classification_metrics",
    "cost_and_gradients",
    "cross_validate_metrics",
    "cross_entropy",
    "download_catvnoncat",
    "file_sha256",
    "gradcheck",
    "gradient_descent",
    "images_to_features",
    "list_image_folder",
    "load_catvnoncat",
    "load_checkpoint",
    "load_h5_dataset",
    "load_image",
    "load_image_folder",
    "load_images",
    "load_model",
    "log_sigmoid",
    "model_metrics",
    "no_grad",
    "save_checkpoint",
    "save_model",
    "sigmoid",
    "squared_error",
    "unroll",
]
