"""A bounded load test of ``logicat serve`` over loopback.

Starts ``logicat serve`` in a subprocess on 127.0.0.1 (any free port), then sends ``--requests``
requests, ``--concurrency`` at a time, from one asyncio/httpx client, for three workloads
measured side by side in the same run:

* ``GET /healthz``          - the floor: HTTP + framework, no work;
* ``POST /api/predict``     - one photo per request: upload, parse, decode, resize, predict;
* in-process baseline       - ``Predictor.predict`` on the same bytes, one thread, no HTTP.

It prints throughput, p50/p99 latency and the error count of each, and the ratios between them.
Client and server share the machine's CPUs, so the numbers are a lower bound for a server alone.

    python benchmarks/web_load.py                       # trains the reference model first
    python benchmarks/web_load.py --model model.safetensors --requests 2000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "tabby_cat.jpg"


def train_reference(out: Path) -> Path:
    """Train the reference model with ``logicat train`` (the cat data: $LOGICAT_DATA, else
    ../shared/data/catvnoncat beside the checkout); exit with its error if it fails."""
    env = dict(os.environ)
    shared = ROOT.parent / "shared" / "data" / "catvnoncat"
    if "LOGICAT_DATA" not in env and shared.is_dir():
        env["LOGICAT_DATA"] = str(shared)
    print("training the reference model (logicat train) ...", flush=True)
    done = subprocess.run([sys.executable, "-m", "logicat", "train", "--print-every", "0",
                           "--out", str(out)], env=env, stdout=subprocess.DEVNULL)
    if done.returncode:
        sys.exit(done.returncode)
    return out


@contextlib.contextmanager
def serve(model, *args: str, timeout: float = 60.0, log=None):
    """Run ``logicat serve --port 0`` on 127.0.0.1 in a subprocess; yield its base URL.

    Waits (at most ``timeout`` seconds) for the printed URL and a 200 from /healthz; always
    stops the server on exit (SIGTERM, then SIGKILL after 10 s). uvicorn's log goes to ``log``
    (a writable binary file) or nowhere.
    """
    import httpx

    command = [sys.executable, "-m", "logicat", "serve", "--model", str(model),
               "--host", "127.0.0.1", "--port", "0", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                            stderr=log if log is not None else subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        url = _read_url(proc, deadline)
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "healthz", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {url} did not become healthy in {timeout} s")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _read_url(proc: subprocess.Popen, deadline: float) -> str:
    """The http://... URL from the server's first line of stdout."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = proc.stdout.readline().decode(errors="replace")
                match = re.search(r"http://\S+/", line)
                if match:
                    return match.group(0)
                if not line:
                    break
            if proc.poll() is not None:
                break
    proc.kill()
    raise RuntimeError(f"logicat serve did not start (exit status {proc.poll()})")


@dataclass
class LoadResult:
    """Latencies (s) of the requests that succeeded, and what went wrong with the others."""

    requests: int
    concurrency: int
    wall_s: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    probabilities: set[float] = field(default_factory=set)

    @property
    def throughput(self) -> float:
        return self.requests / self.wall_s

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


async def _load(url: str, requests: int, concurrency: int, files=None) -> LoadResult:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    result = LoadResult(requests, concurrency, 0.0)
    remaining = iter(range(requests))

    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            for _ in remaining:  # shared iterator: exactly `requests` requests in all
                start = time.perf_counter()
                try:
                    if files is None:
                        response = await client.get(url)
                    else:
                        response = await client.post(url, files=files)
                except httpx.HTTPError as err:
                    result.errors.append(f"{type(err).__name__}: {err}")
                    continue
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    result.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                    continue
                result.latencies.append(elapsed)
                if files is not None:
                    answers = response.json()["results"]
                    result.probabilities.update(a["probability"] for a in answers)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - start
    return result


def run_load(url: str, requests: int, concurrency: int, files=None) -> LoadResult:
    """Send ``requests`` requests to ``url``, at most ``concurrency`` at a time.

    ``files`` (httpx's ``files=`` argument) makes them multipart POSTs; else they are GETs.
    """
    if requests < 1 or concurrency < 1:
        raise ValueError("requests and concurrency must be >= 1")
    return asyncio.run(_load(url, requests, concurrency, files))


def in_process(model, photo: Path, requests: int, blas_threads: int | None = 1) -> LoadResult:
    """The baseline: ``Predictor.predict`` on the same bytes, sequentially, without HTTP.

    ``blas_threads`` limits BLAS as ``logicat serve --blas-threads`` does (None: no limit).
    """
    from threadpoolctl import threadpool_limits

    from logicat.web import Predictor

    predictor = Predictor(model, max_pixels=50_000_000)
    data = photo.read_bytes()
    result = LoadResult(requests, 1, 0.0)
    with threadpool_limits(blas_threads):
        start = time.perf_counter()
        for _ in range(requests):
            t = time.perf_counter()
            [answer] = predictor.predict([(photo.name, data)])
            result.latencies.append(time.perf_counter() - t)
            result.probabilities.add(answer["probability"])
        result.wall_s = time.perf_counter() - start
    return result


def _row(name: str, r: LoadResult) -> str:
    return (f"{name:<34} {r.requests:>8} {r.concurrency:>5} {len(r.errors):>6} "
            f"{r.throughput:>9.1f} {r.percentile_ms(50):>8.2f} {r.percentile_ms(99):>8.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="model file [default: train the reference one]")
    parser.add_argument("--photo", type=Path, default=PHOTO, help="the image to upload")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-concurrency", type=int, default=None,
                        help="the server's --max-concurrency [default: its own]")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = train_reference(Path(tmp) / "model.safetensors")
        server_args = ["--no-access-log"]
        if args.max_concurrency:
            server_args += ["--max-concurrency", str(args.max_concurrency)]
        files = [("files", (args.photo.name, args.photo.read_bytes(), "image/jpeg"))]
        with serve(model, *server_args) as url:
            run_load(url + "healthz", 50, args.concurrency)  # warm-up
            run_load(url + "api/predict", 50, args.concurrency, files)
            health = run_load(url + "healthz", args.requests, args.concurrency)
            predict = run_load(url + "api/predict", args.requests, args.concurrency, files)
        local = in_process(model, args.photo, min(args.requests, 500))
        local_blas = in_process(model, args.photo, min(args.requests, 500), blas_threads=None)

    print(f"\nlogicat serve load test: {args.photo.name} ({args.photo.stat().st_size} bytes), "
          f"127.0.0.1, {os.cpu_count()} CPUs shared by client and server")
    print(f"{'workload':<34} {'requests':>8} {'conc':>5} {'errors':>6} "
          f"{'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    print(_row("GET /healthz", health))
    print(_row("POST /api/predict (1 photo)", predict))
    print(_row("in-process Predictor.predict", local))
    print(_row("  the same, BLAS's default threads", local_blas))
    print(f"\npredict / healthz throughput:     {predict.throughput / health.throughput:.3f}")
    print(f"predict over HTTP / in-process:   {predict.throughput / local.throughput:.3f}")
    print(f"in-process, 1 BLAS thread / default: "
          f"{local.throughput / local_blas.throughput:.3f}")
    agree = predict.probabilities | local.probabilities | local_blas.probabilities
    spread = max(agree) - min(agree) if agree else float("nan")
    print(f"p(cat) over HTTP and in process:  {min(agree):.10f} (spread {spread:.1e})")
    for error in (health.errors + predict.errors)[:5]:
        print("error:", error)
    return 1 if health.errors or predict.errors else 0


if __name__ == "__main__":
    sys.exit(main())
