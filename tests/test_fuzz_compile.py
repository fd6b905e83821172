"""Hostile specs through the whole compile path: a coded diagnostic or a plan whose artifacts keep every
value as data, never an exception. benchmarks/fuzz.py runs the same strategies 10^5 times.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from llmc.diagnostics import CODES
from llmc.driver import open_catalog

from tests.support import stubs
from tests.support.fuzz import compile_text, hostile_specs, served_specs

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@functools.cache
def catalog():
    return open_catalog()[0]


def _well_behaved(result) -> None:
    assert all(d.code in CODES for d in result.diagnostics)
    assert result.exit_code in (0, 1, 2)
    for item in result.deployments:
        if item.plan is not None and result.exit_code == 0:
            assert item.artifacts


@SETTINGS
@given(hostile_specs())
def test_hostile_specs_give_diagnostics_not_exceptions(text):
    with tempfile.TemporaryDirectory() as tmp:
        _well_behaved(compile_text(text, Path(tmp), catalog()))


@SETTINGS
@given(served_specs())
def test_an_accepted_hostile_value_stays_data_when_the_artifacts_run(case):
    text, field, value = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result = compile_text(text, tmp, catalog())
        _well_behaved(result)
        if result.exit_code != 0:
            assert result.exit_code == 2 and field in ("name", "host", "api_key")
            return
        [item] = result.deployments
        build = tmp / "build"
        for a in item.artifacts:
            (build / a.path).parent.mkdir(parents=True, exist_ok=True)
            (build / a.path).write_text(a.content)
        launcher = next(build / a.path for a in item.artifacts if a.path.endswith(".sh") and "create" not in a.path)
        env = stubs.install(tmp / "bin")
        run = stubs.run(["bash", str(launcher)], env, tmp, {"LLMC_MODELS_DIR": str(tmp / "m"), "VLLM": "vllm",
                                                            **({value: "key"} if field == "api_key" else {})})
        assert run.returncode == 0, run.stderr
        assert "pwned" not in [c["argv"][0] for c in stubs.calls(env)]
