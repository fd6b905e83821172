"""Runtime profiles (llmc.runtimes): one home for what llmc knows about each runtime.

The rule the grep test enforces: outside compiler/runtimes/ no module (nor template: *.j2 too)
branches on a runtime's name. A stage that behaves differently per runtime reads a field of `profile(name)` instead
(engine, kv_runtime, offload, launcher, ...). Exempt are compiler/runtimes/ itself and the four
targets/<runtime>/__init__.py, whose classes declare `name`/`runtime` (the key of their own
target); data keyed by a runtime name (the catalog's YAML, the calibration table EFFICIENCY)
is data, not a branch, and the pattern does not match it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from llmc import runtimes
from llmc.catalog import load_catalog
from llmc.parse import parse
from llmc.plan import Plan
from llmc.runtimes import PROFILES, RuntimeProfile, UnknownRuntime, names, profile
from llmc.source import SourceFile
from pydantic import ValidationError

from .support import plans

REPO = Path(__file__).resolve().parents[1]
RUNTIME_NAMES = ("vllm", "llama.cpp", "ollama", "sglang")
# `== "vllm"`, `!= "vllm"` or `in (..., "ollama", ...)`: a branch on a runtime's name. (The issue's
# pattern, with `!=` added.)
NAME_BRANCH = re.compile(r'''[=!]=\s*["'](vllm|llama\.cpp|ollama|sglang)["']|in \([^)]*["'](vllm|llama\.cpp|ollama|sglang)["']''')
EXEMPT = {REPO / "targets" / folder / "__init__.py" for folder in ("vllm", "llamacpp", "ollama", "sglang")}


def _scanned() -> list[Path]:
    files = [p for folder in ("compiler", "targets") for pattern in ("*.py", "*.j2")
             for p in sorted((REPO / folder).rglob(pattern))]
    return [p for p in files if p not in EXEMPT and (REPO / "compiler" / "runtimes") not in p.parents]


def test_no_module_branches_on_a_runtime_name():
    scanned = _scanned()
    assert len(scanned) > 50          # the scan found the tree
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}"
             for p in scanned for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if NAME_BRANCH.search(line)]
    assert found == [], "branch on the runtime's profile (llmc.runtimes), not its name:\n" + "\n".join(found)


def test_the_pattern_catches_the_branches_it_forbids():
    for line in ('if runtime == "vllm":', "if plan.runtime.name != 'ollama':", 'x in ("llama.cpp", "ollama")',
                 '{% if plan.runtime.name in ("sglang",) %}'):
        assert NAME_BRANCH.search(line), line
    for line in ('name = "vllm"', 'EFFICIENCY[("llama.cpp", "cpu")]', 'kv.runtimes.get("llama.cpp")'):
        assert not NAME_BRANCH.search(line), line


def test_the_registry_holds_the_four_runtimes_in_the_spec_order():
    assert names() == RUNTIME_NAMES
    assert all(isinstance(p, RuntimeProfile) and p.name == n for n, p in PROFILES.items())
    assert {profile(n).engine for n in RUNTIME_NAMES} == {"paged", "llama"}
    # one launcher path for README.md and llmc smoke
    assert profile("vllm").launcher == "vllm/serve.sh" and profile("ollama").launcher is None


def test_every_native_target_serves_a_registered_runtime():
    from llmc.targets import RUNTIME_TARGETS

    assert sorted(RUNTIME_TARGETS) == sorted(names())


# ---------------------------------------------------------------- the pin

@pytest.mark.parametrize("name", RUNTIME_NAMES)
def test_the_flag_table_is_the_pinned_release(name):
    """The table a target checks its flags against was generated from the profile's release (the table
    records the version its generator read from the runtime itself)."""
    from llmc.targets import RUNTIME_TARGETS

    pin = profile(name).pin
    table = RUNTIME_TARGETS[name].flag_table()
    if not pin.flag_table:
        assert RUNTIME_TARGETS[name].flag_table_path() is None and table == {}
        return
    assert table[name] == pin.version and table["flags"]


def test_a_pin_is_an_image_with_a_pinned_tag():
    from llmc.runtimes import Pin

    assert profile("llama.cpp").pin.image_ref("cpu").endswith(":server-" + profile("llama.cpp").pin.version)
    assert ":server-cuda-" in profile("llama.cpp").pin.image_ref("cuda")
    assert profile("vllm").pin.image_ref("cuda") == profile("vllm").pin.image_ref("cpu")
    assert profile("llama.cpp").pin.image_ref("metal") is None      # llama.cpp runs natively on macOS
    for image, tag in (("vllm/vllm-openai", "latest"), ("Bad Image", "v1"), ("vllm/vllm-openai", "v1;rm")):
        with pytest.raises(ValueError, match="never latest"):
            Pin("1", image, tag, source="a test")


@pytest.mark.parametrize("name", RUNTIME_NAMES)
def test_plans_carry_the_profiles_pin(catalog, name):
    from llmc.solve import solve

    from .support.specs import deployment, spec_text

    plan, _ = solve(deployment(spec_text('    gpu = 1 x "RTX 4090"', body=f"  runtime = {name}")), catalog)
    pin = profile(name).pin
    assert (plan.runtime.version, plan.runtime.image, plan.runtime.backend) == (pin.version, pin.image_ref("cuda"),
                                                                                "cuda")


# ---------------------------------------------------------------- unknown names

def test_an_unknown_runtime_names_the_known_ones():
    with pytest.raises(UnknownRuntime) as info:
        profile("tgi")
    assert isinstance(info.value, ValueError) and not isinstance(info.value, KeyError)
    assert info.value.known == RUNTIME_NAMES
    assert "tgi" in str(info.value) and all(n in str(info.value) for n in RUNTIME_NAMES)
    with pytest.raises(UnknownRuntime):
        profile(None)  # type: ignore[arg-type]


def _renamed(plan: Plan, name: str) -> Plan:
    """The plan with another runtime name, not validated (as a stale or hand-edited plan.json could be)."""
    return plan.model_copy(update={"runtime": plan.runtime.model_copy(update={"name": name})})


def test_a_plan_naming_an_unknown_runtime_is_a_validation_error():
    data = json.loads(plans.vllm_tp2_speculative().model_dump_json(by_alias=True))
    assert Plan.model_validate(data).runtime.name == "vllm"
    data["runtime"]["name"] = "tgi"
    with pytest.raises(ValidationError) as info:
        Plan.model_validate(data)
    assert "unknown runtime 'tgi'" in str(info.value)


def test_a_catalog_runtime_record_naming_an_unknown_runtime_is_E302(tmp_path):
    (tmp_path / "tgi.yaml").write_text(
        "runtimes:\n- name: tgi\n  formats: [float]\n  kv_types: [f16]\n  parallelism: [tp]\n  multi_node: false\n"
        "  cpu_offload: false\n  cpu_only: false\n  speculative: []\n  tool_calling: false\n  vision: false\n"
        "  health_path: /health\n  default_port: 8080\n  source: 'a test'\n", encoding="utf-8")
    _, diagnostics = load_catalog([tmp_path])
    assert [d.code for d in diagnostics if "tgi" in d.summary + (d.detail or "")] == ["E302"], diagnostics


def test_the_targets_report_an_unknown_runtime_as_E501():
    from llmc.targets import emit_all

    artifacts, diagnostics = emit_all(_renamed(plans.vllm_tp2_speculative(), "tgi"))
    assert artifacts == [] and [d.code for d in diagnostics] == ["E501"]
    assert "tgi" in diagnostics[0].summary and "vllm" in (diagnostics[0].help or "")


# ---------------------------------------------------------------- a new profile

@pytest.fixture
def tgi(monkeypatch):
    """A throwaway runtime, registered the way a new runtime module would be: one PROFILES entry."""
    new = dataclasses.replace(PROFILES["vllm"], name="tgi", rank=5, service_name="tgi", launcher="tgi/launch.sh")
    monkeypatch.setitem(PROFILES, "tgi", new)
    return new


def _lower_runtime(word: str):
    from llmc.lower import lower

    source = SourceFile(path="t.llmspec", text=f'deployment "svc" {{\n  runtime = {word}\n'
                                               '  hardware {\n    gpu = 1 x "RTX 4090"\n  }\n}\n')
    tree, diagnostics = parse(source)
    assert diagnostics == []
    return lower(source, tree)


def test_a_registered_profile_is_known_to_profile_and_the_spec(tgi):
    assert profile("tgi") is tgi and names()[-1] == "tgi" and runtimes.known("tgi")
    spec, diagnostics = _lower_runtime("tgi")
    assert diagnostics == [] and [w.value for w in spec.deployments[0].runtime.values] == ["tgi"]
    spec, diagnostics = _lower_runtime("any [tgi, vllm]")
    assert diagnostics == [] and [w.value for w in spec.deployments[0].runtime.values] == ["tgi", "vllm"]


def test_an_unregistered_word_is_a_spec_error_listing_the_registry():
    spec, diagnostics = _lower_runtime("tgi")
    assert spec.deployments == () and diagnostics and "tgi" in diagnostics[0].summary


def test_the_stages_that_read_the_registry_need_nothing_else(tgi):
    """A plan for the new runtime validates, is estimated and explained; only its target is missing (E501)."""
    from llmc.estimate.speed import efficiency
    from llmc.explain import parallelism_text
    from llmc.targets import emit_all

    plan = _renamed(plans.vllm_tp2_speculative(), "tgi")
    assert Plan.model_validate(json.loads(plan.model_dump_json(by_alias=True))).runtime.name == "tgi"
    assert parallelism_text(plan) == parallelism_text(plans.vllm_tp2_speculative())
    assert efficiency("tgi", None) == efficiency("vllm", None)
    artifacts, diagnostics = emit_all(plan)
    assert artifacts == [] and [d.code for d in diagnostics] == ["E501"] and "'tgi'" in diagnostics[0].summary


def test_smoke_finds_the_launcher_every_target_writes(tmp_path):
    """The profile's launcher is the path the runtime's target really writes: smoke resolves it in a real
    build of every hand-built plan (Ollama has none: it is started with `ollama serve` and create.sh)."""
    from llmc.artifacts import write_atomically
    from llmc.smoke.build_dir import native_script
    from llmc.targets import emit_all

    from tests.support import plans

    for name, make in sorted(plans.ALL.items()):
        plan = make()
        build = tmp_path / name
        write_atomically(build, emit_all(plan)[0])
        if profile(plan.runtime.name).launcher is None:
            assert (build / profile(plan.runtime.name).create_script).is_file(), name
            continue
        assert native_script(build, plan) == build / profile(plan.runtime.name).launcher, name
