"""examples/python_api.ipynb runs top to bottom in a real Jupyter kernel (nbclient), as a
notebook user would run it: the Python API, progress widgets and all."""

from __future__ import annotations

import os

import pytest

from tests.helpers import ROOT

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")


def test_the_example_notebook_executes(tmp_path):
    notebook = nbformat.read(os.path.join(ROOT, "examples", "python_api.ipynb"), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                 # a failing cell raises CellExecutionError with its output
    shown = [out for cell in notebook.cells if cell.cell_type == "code"
             for out in cell.get("outputs", [])]
    assert any("text/html" in out.get("data", {}) for out in shown)       # the DataFrame
    if _has("ipywidgets"):                     # progress as tqdm.auto widgets, not text bars
        assert any("application/vnd.jupyter.widget-view+json" in out.get("data", {})
                   for out in shown)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
