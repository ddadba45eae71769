"""The data layer: the cat / non-cat HDF5 set, labelled image folders, single images.

Everything here returns uint8 RGB images of shape (m, size, size, 3) and int64 0/1 labels
(1 = cat); turning them into features is ``logicat.data.features``' job.

- ``catvnoncat``: find, download, load and validate the HDF5 set
- ``download``: one file over HTTP(S), kept only if its SHA-256 matches
- ``images``: any image file -> (size, size, 3) uint8 RGB, by one resize policy
- ``folders``: labelled image folders (``root/<class>/*.jpg``)
- ``decode``: many image files decoded by worker processes
- ``chunks``: HDF5 files read in chunks of rows (out-of-core training)
- ``pack``: an image folder -> one HDF5 file of the cat-data layout
- ``folder_cache``: a folder's decoded images, cached, checked against the folder when read
- ``image_sets``: your photos as a training set and a held-out test set
"""

from logicat.core.lazy import lazy_exports

_WHERE = {
    **dict.fromkeys(
        ["DEFAULT_BASE_URL", "SHA256", "SIZES", "TEST_FILE", "TRAIN_FILE", "CatData", "cache_dir",
         "download_catvnoncat", "find_catvnoncat", "load_catvnoncat", "load_h5_dataset"],
        "logicat.data.catvnoncat",
    ),
    "fetch_verified": "logicat.data.download",
    "file_sha256": "logicat.data.download",
    **dict.fromkeys(["IMAGE_EXTENSIONS", "ImageFolderData", "list_image_folder",
                     "load_image_folder"], "logicat.data.folders"),
    **dict.fromkeys(["MAX_PIXELS", "load_image", "load_images"], "logicat.data.images"),
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
