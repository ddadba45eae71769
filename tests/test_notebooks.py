"""The notebooks in notebooks/: each runs from top to bottom on the cat data, and each is
committed without outputs.

They run in a Jupyter kernel of this very interpreter (the venv's: ipykernel's kernel spec,
written to a temporary folder and found only there, so a ``python3`` kernel installed elsewhere
on the machine is never picked up), with the notebook's folder as the working directory, as
Jupyter runs them. The conftest's ``LOGICAT_DATA`` reaches the kernel through the environment.
"""

from __future__ import annotations

import ast
import sys
import time

import pytest

from tests import paths

NOTEBOOKS = paths.ROOT / "notebooks"
NAMES = ["1-the-lesson.ipynb", "2-the-networks.ipynb", "3-the-convnet.ipynb"]
#: the longest any one cell may run (the slowest, the ConvNet's 10 epochs, takes ~10 s on 2 cores)
CELL_TIMEOUT_S = 120


def read(name: str):
    import nbformat

    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_the_notebooks_are_the_three():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_a_notebook_is_committed_without_outputs(name):
    import nbformat

    nb = read(name)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, name
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{name}: a cell has outputs (clear them before committing): {cell.source[:60]!r}")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert any(cell.cell_type == "markdown" for cell in nb.cells)


@pytest.mark.parametrize("name", NAMES)
def test_a_notebook_uses_the_public_api_only(name):
    """No command-line module, no private name: what a notebook shows, a user may write."""
    for cell in read(name).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith("%"))  # IPython magics
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("logicat"):
                assert not node.module.startswith(("logicat.cli", "logicat.web")), node.module
                assert all(not part.startswith("_") for part in node.module.split(".")), (
                    node.module)
                assert all(not alias.name.startswith("_") for alias in node.names), (
                    [alias.name for alias in node.names])


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory):
    """A folder holding one kernel spec, ``python3``: ipykernel in this interpreter."""
    from ipykernel.kernelspec import write_kernel_spec

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / "python3")  # argv: [sys.executable, "-m", "ipykernel_launcher"...]
    return [str(kernels)]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_a_notebook_runs_from_top_to_bottom(name, kernel_dirs, cat_data):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    nb = read(name)
    specs = KernelSpecManager(kernel_dirs=kernel_dirs)
    assert specs.get_kernel_spec("python3").argv[0] == sys.executable
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, startup_timeout=60,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    # raises CellExecutionError, with the cell and its traceback, on an error; cleanup_kc: shut
    # the kernel down and close its sockets at the end (nbclient leaves a km it was given alone)
    client.execute(cleanup_kc=True)
    seconds = time.perf_counter() - start
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "error"]
    assert errors == []
    pictures = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
                if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert pictures, f"{name} drew no picture inline"
    print(f"{name}: {seconds:.1f} s")
