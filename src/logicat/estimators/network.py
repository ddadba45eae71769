"""``NetworkClassifier``: a network of your own layers on the images, with scikit-learn's contract.

    from logicat import NetworkClassifier
    from logicat.layers import Conv2d, BatchNorm, ReLU, MaxPool, Residual, GlobalAvgPool, Dense
    net = NetworkClassifier(layers=[
        Conv2d(16), BatchNorm(), ReLU(), MaxPool(),
        Residual([Conv2d(16), BatchNorm(), ReLU(), Conv2d(16), BatchNorm()]), ReLU(), MaxPool(),
        GlobalAvgPool(), Dense(1)], max_iter=30)          # the last layer gives the logit
    net.fit(images, y); print(net.summary())

The list is the model: logicat puts the input normalisation (the training images' channel
statistics) before it and the sigmoid after it, names each layer (``net.0``, ``net.4.body.1``:
``logicat.nn.layers.resolve``, which also gives a residual block whose body changes the shape its
1x1 convolution shortcut), and trains it exactly as ``ConvNetClassifier`` trains its own network
- the same recipe and options (augmentation, schedule, optimizers, class weights, early stopping,
ensembles and calibration, checkpoints and resuming), the same model files (their
``architecture`` holds the list), the same prediction, explanation and export. A
``ConvNetClassifier`` is this with the list its ``widths`` describe.
"""

from __future__ import annotations

from typing import Any

from logicat.estimators.convnet import ConvNetClassifier
from logicat.model import Model
from logicat.training.hyperparameters import NETWORK_DEFAULTS

_D = NETWORK_DEFAULTS


class NetworkClassifier(ConvNetClassifier):
    """A binary image classifier: your own list of layers (``logicat.layers``), ending in one
    logit, trained with augmentation as ``ConvNetClassifier`` is.

    Parameters
    ----------
    layers : the network, a list of ``logicat.layers`` (or their JSON objects, as
        ``logicat.layers.read_layers`` gives them) from the (normalised) images to the logit
    tta, max_iter, batch_size, learning_rate, optimizer, momentum, weight_decay, lr_schedule,
    warmup, flip, crop, ..., random_state, device, callbacks, verbose : as
        ``ConvNetClassifier``'s (its defaults: the recipe cross-validation chose for it)

    Attributes
    ----------
    as ``ConvNetClassifier``'s; ``spec_`` is the trained network (``logicat.nn.convnet.
    NetworkSpec``: ``spec_.body`` the layers, named)
    """

    def __init__(self, layers=_D["layers"], max_iter=_D["max_iter"],
                 batch_size=_D["batch_size"], learning_rate=_D["learning_rate"],
                 optimizer=_D["optimizer"], momentum=_D["momentum"],
                 weight_decay=_D["weight_decay"], lr_schedule=_D["lr_schedule"],
                 warmup=_D["warmup"], flip=_D["flip"], crop=_D["crop"], crop_pad=_D["crop_pad"],
                 crop_min_scale=_D["crop_min_scale"], rotation=_D["rotation"],
                 brightness=_D["brightness"], contrast=_D["contrast"],
                 saturation=_D["saturation"], mixup=_D["mixup"], cutmix=_D["cutmix"],
                 label_smoothing=_D["label_smoothing"], average=_D["average"],
                 average_decay=_D["average_decay"], average_start=_D["average_start"],
                 tta=_D["tta"],
                 class_weight=_D["class_weight"], early_stopping=_D["early_stopping"],
                 validation_fraction=_D["validation_fraction"],
                 n_iter_no_change=_D["n_iter_no_change"], n_members=_D["n_members"],
                 members=_D["members"], combine=_D["combine"], calibration=_D["calibration"],
                 calibration_cv=_D["calibration_cv"], prior=_D["prior"],
                 random_state=_D["random_state"], device=_D["device"],
                 callbacks=_D["callbacks"], verbose=_D["verbose"]):
        params = dict(locals())
        params.pop("self")
        params.pop("__class__", None)
        for name, value in params.items():
            setattr(self, name, value)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, resume_from=None
            ) -> NetworkClassifier:
        if self.layers is None:
            from logicat.core.errors import ParameterError

            raise ParameterError("NetworkClassifier needs its layers: NetworkClassifier("
                                 "layers=[Conv2d(16), BatchNorm(), ReLU(), ..., Dense(1)]).")
        return super().fit(X, y, sample_weight, resume_from=resume_from)

    @classmethod
    def _reads(cls, model: Model) -> bool:
        """Any image network's file, a ``ConvNetClassifier``'s too: its list of layers is a
        network's."""
        return model.takes_images

    @classmethod
    def _file_params(cls, model: Model) -> dict[str, Any]:
        return {**super()._file_params(model), "layers": model.layers[1:-1]}
