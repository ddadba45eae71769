"""``logicat serve --prior P`` and ``create_app(prior=...)``: the app decides at that class mix,
and its page and ``/api/model`` say at which."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from logicat.io.files import read_model, save_model  # noqa: E402
from logicat.nn.output import Output  # noqa: E402
from tests.conftest import invoke as run  # noqa: E402

UNRECORDED = "this model does not record the class mix it was trained on"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(a tiny logistic regression from ``logicat train``, the same in a file that does not
    record its training mix)."""
    folder = tmp_path_factory.mktemp("web-prior")
    path = folder / "m.safetensors"
    result = run("train", "--iterations", 30, "--print-every", 0, "--out", path)
    assert result.exit_code == 0, result.output
    model = read_model(path)
    old = folder / "old.safetensors"
    save_model(replace(model, output=Output(),
                       metadata={k: v for k, v in model.metadata.items() if k != "output"}), old)
    return path, old


def _ask(app, photo: bytes | None = None):
    """(GET /api/model, POST /api/predict of ``photo`` or None, GET /) of ``app``, in memory."""

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            info = await c.get("/api/model")
            answer = None
            if photo is not None:
                answer = await c.post("/api/predict", files=[("files", ("p.jpg", photo))])
            page = await c.get("/")
            return info, answer, page

    return asyncio.run(go())


def _log_odds(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def test_the_app_decides_at_the_prior_and_says_so(models, photos_dir):
    from logicat.web import create_app

    path, _ = models
    pi = read_model(path).output.training_prior
    photo = (photos_dir / "tabby_cat.jpg").read_bytes()
    info, answer, _ = _ask(create_app(path), photo)
    assert info.status_code == 200
    body = info.json()
    assert body["prior"] == pi
    assert body["output"] == {"members": 1, "combine": "logit", "temperature": 1.0,
                              "prior": "train", "training_prior": pi}
    assert body["output_description"] == "deciding at the training class mix (0.344 positive)"
    p = answer.json()["results"][0]["probability"]

    info, answer, page = _ask(create_app(path, prior="balanced"), photo)
    body = info.json()
    assert body["prior"] == 0.5
    assert body["output"]["prior"] == "balanced"
    assert body["output_description"] == ("deciding at a class mix of 0.5 positive (balanced, "
                                          "trained at 0.344)")
    shifted = answer.json()["results"][0]
    expected = 1 / (1 + math.exp(-(_log_odds(p) - _log_odds(pi))))  # Bayes: ln(0.5/0.5) = 0
    assert shifted["probability"] == pytest.approx(expected, abs=1e-12)
    assert shifted["probability"] != pytest.approx(p, abs=1e-3)
    assert shifted["label"] == ("cat" if shifted["probability"] > 0.5 else "non-cat")
    # the page shows it: an "output" fact the script fills from output_description
    assert '<dt>output</dt><dd id="model-output">' in page.text
    from logicat.web.app import STATIC

    assert '$("#model-output").textContent = model.output_description' in (
        STATIC / "app.js").read_text()


def test_create_app_refuses_a_prior_for_a_file_that_does_not_record_its_mix(models):
    from logicat.core.errors import ModelFileError
    from logicat.web import create_app

    _, old = models
    with pytest.raises(ModelFileError, match=f"^{old}: {UNRECORDED}"):
        create_app(old, prior="balanced")
    body = _ask(create_app(old))[0].json()  # without one it serves as it always did
    assert body["prior"] is None and body["output_description"] == (
        "deciding at the training class mix")


@pytest.fixture
def served(monkeypatch) -> list:
    """The apps ``logicat serve`` hands to uvicorn, whose ``Server.run`` returns at once (the
    sockets closed): no test here starts a server, nor hangs waiting for one."""
    import uvicorn

    apps: list = []

    def run_server(self, sockets=None):
        apps.append(self.config.app)
        for sock in sockets or ():
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", run_server)
    return apps


def test_serve_prior_reaches_the_app(models, served):
    """``logicat serve --prior 0.25``: the app uvicorn is given decides at 0.25."""
    path, _ = models
    result = run("serve", "-m", path, "--port", 0, "--prior", "0.25", "--no-access-log",
                 "--blas-threads", 0)
    assert result.exit_code == 0, result.output
    [app] = served
    body = _ask(app)[0].json()
    assert body["prior"] == 0.25 and body["output"]["prior"] == 0.25
    assert body["output_description"].startswith("deciding at a class mix of 0.25 positive")


def test_serve_refuses_a_prior_it_cannot_apply_in_one_line(models, served):
    path, old = models
    result = run("serve", "-m", old, "--port", 0, "--prior", "balanced", "--blas-threads", 0)
    assert result.exit_code == 1 and not served
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"Error: {old}: {UNRECORDED}")
    bad = run("serve", "-m", path, "--port", 0, "--prior", "half", "--blas-threads", 0)
    assert bad.exit_code == 2
    assert ("Error: Invalid value for '--prior': expected 'train', 'balanced' or a number in "
            "(0, 1)") in bad.output
