"""The web app: try the classifier on your own photos and see what it learned.

``create_app(model, ...)`` builds the FastAPI application; ``logicat serve`` runs it with
uvicorn. The web stack (FastAPI, uvicorn, python-multipart) is the ``web`` extra.
"""

from logicat.web.app import MAX_FILES, MAX_PIXELS, MAX_UPLOAD_BYTES, create_app
from logicat.web.service import Predictor

__all__ = ["MAX_FILES", "MAX_PIXELS", "MAX_UPLOAD_BYTES", "Predictor", "create_app"]
