"""The data layer: the cat / non-cat HDF5 set, labelled image folders, single images.

Everything here returns uint8 RGB images of shape (m, size, size, 3) and int64 0/1 labels
(1 = cat); turning them into features is ``logicat.features``' job.
"""

from logicat.data.catvnoncat import (
    DEFAULT_BASE_URL,
    SHA256,
    TEST_FILE,
    TRAIN_FILE,
    CatData,
    cache_dir,
    download_catvnoncat,
    find_catvnoncat,
    load_catvnoncat,
    load_h5_dataset,
)
from logicat.data.download import fetch_verified, file_sha256
from logicat.data.folders import (
    IMAGE_EXTENSIONS,
    ImageFolderData,
    list_image_folder,
    load_image_folder,
)
from logicat.data.images import MAX_PIXELS, load_image, load_images

__all__ = [
    "DEFAULT_BASE_URL",
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "SHA256",
    "TEST_FILE",
    "TRAIN_FILE",
    "CatData",
    "ImageFolderData",
    "cache_dir",
    "download_catvnoncat",
    "fetch_verified",
    "file_sha256",
    "find_catvnoncat",
    "list_image_folder",
    "load_catvnoncat",
    "load_h5_dataset",
    "load_image",
    "load_image_folder",
    "load_images",
]
