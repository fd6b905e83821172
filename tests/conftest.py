import os
import tempfile

import pytest

from tests.support import tools

# Module- and session-scoped fixtures run before the autouse one below: they get a store of their own too,
# never the developer's.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="llmc-test-data-")


@pytest.fixture(autouse=True)
def own_calibration_store(monkeypatch, tmp_path_factory):
    """Each test's user calibration store (llmc.smoke.store) is its own: a smoke run's record never reaches
    the developer's store or another test's build, and no record changes a build compared with goldens."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture(scope="session")
def catalog():
    """The built-in catalog, loaded once; it must load without a diagnostic."""
    from llmc.catalog import load_catalog

    loaded, diagnostics = load_catalog()
    assert diagnostics == [], [d.summary + ": " + d.detail for d in diagnostics]
    return loaded


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from the current output")


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def llama_server_bin():
    return tools.llama_server()


@pytest.fixture(scope="session")
def gemma_path():
    return tools.gemma_gguf()
