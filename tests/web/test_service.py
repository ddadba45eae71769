"""What the web app computes, without the web (``web.service.Predictor``): the model's summary
leaves out where its photos are; a logit that is not a number is a 500 saying so."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")


def test_the_page_does_not_show_where_the_photos_are(model_path, tmp_path):
    """A model trained on train --images records its folders' real paths (for evaluate and
    report to find its held-out photos); the page shows the rest of the record, not them."""
    from logicat.io.files import read_model, save_model
    from logicat.web.service import Predictor

    mine = tmp_path / "mine.safetensors"
    record = {"file": "photos/", "sha256": "0" * 64, "n_samples": 10, "folder": "/home/me/photos",
              "test_folder": "/home/me/test", "test_sha256": "1" * 64}
    save_model(read_model(model_path), mine, training_data=record)
    shown = Predictor(mine, max_pixels=10**6).summary()["training_data"]
    assert shown == {"file": "photos/", "sha256": "0" * 64, "n_samples": 10,
                     "test_sha256": "1" * 64}


def test_a_model_whose_logit_is_not_a_number_answers_500_saying_so(model_path, photos_dir):
    """Never 200 with a null probability: a model made in memory whose weights overflow (a
    file like it is refused when the server starts) answers 500 with the reason."""
    from logicat.io.files import read_model
    from logicat.web import create_app

    model = read_model(model_path)
    model.tensors["coef"] = np.full_like(model.tensors["coef"], 1e308)
    photo = (photos_dir / "tabby_cat.jpg").read_bytes()

    async def post():
        transport = httpx.ASGITransport(app=create_app(model))
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            return await c.post("/api/predict", files=[("files", ("tabby.jpg", photo))])

    response = asyncio.run(post())
    assert response.status_code == 500
    assert response.json()["code"] == "model_error"
    assert "its logit is not a finite number for 1 of the 1 examples" in response.json()["detail"]
