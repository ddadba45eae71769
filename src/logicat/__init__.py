"""logicat: is this a cat? Logistic regression as a neural network, built from first principles.

The layers, each importing only from the ones before it:
data (HDF5, image folders, single images) -> features (unroll, scale) -> loss (sigmoid, losses,
cost and gradients) -> optim (gradient descent) -> engines -> estimator (LogisticRegression)
-> model files -> CLI, plots, web.
"""

__version__ = "0.1.0"

from logicat.data import (
    CatData,
    download_catvnoncat,
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
from logicat.model_io import load_model, save_model
from logicat.optim import TrainingState, gradient_descent

__all__ = [
    "__version__",
    "CatData",
    "DataFileError",
    "DivergenceError",
    "DownloadError",
    "ImageLoadError",
    "LogicatError",
    "LogisticRegression",
    "ModelFileError",
    "TrainingState",
    "cost_and_gradients",
    "cross_entropy",
    "download_catvnoncat",
    "gradient_descent",
    "images_to_features",
    "load_catvnoncat",
    "load_h5_dataset",
    "load_image",
    "load_image_folder",
    "load_images",
    "load_model",
    "log_sigmoid",
    "save_model",
    "sigmoid",
    "squared_error",
    "unroll",
]
