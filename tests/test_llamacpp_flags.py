"""llama-server flag table: regenerated from the built binary's --help, and it knows every flag llmc emits."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from llmc.plan import Speculative
from llmc.targets.llamacpp import LlamaCppTarget
from tests.support import plans
from tests.support.emitted import files
from tests.support.example_plans import all_example_plans
from tests.support.tools import REPO

EXAMPLE_PLANS = {n: p for n, p in sorted(all_example_plans().items()) if p.runtime.name == "llama.cpp"}


def variants() -> dict[str, object]:
    """llamacpp_70b_row_split with each speculative method, both chat-template forms and a unified KV."""
    base = plans.llamacpp_70b_row_split()

    def vary(method: str, template: str, kv_unified: bool):
        spec = Speculative(method=method, num_tokens=4, draft_repo="bartowski/Llama-3.2-1B-Instruct-GGUF",
                           draft_file="Llama-3.2-1B-Instruct-Q4_K_M.gguf", acceptance=0.6, speedup=1.5,
                           source="test builder")
        return base.model_copy(update={
            "speculative": spec, "model": base.model.model_copy(update={"chat_template": template}),
            "settings": base.settings.model_copy(update={"kv_unified": kv_unified})})

    return {"draft": vary("draft", "templates/llama3.jinja", True), "mtp": vary("mtp", "{{ messages }}", False),
            "ngram": vary("ngram", "templates/llama3.jinja", True)}


VARIANTS = variants()
PLANS = ["llamacpp_70b_row_split", "llamacpp_gemma_cpu", "llamacpp_tiny_cpu", *EXAMPLE_PLANS, *VARIANTS]


def server_argv(script: str) -> list[str]:
    """The argv of the llama-server line of an emitted llama-server.sh, as the shell would split it."""
    text = script.replace("\\\n", " ")
    binary = '"${LLAMA_SERVER:-llama-server}"'
    line = next(line for line in text.splitlines() if binary in line)
    return [t for t in shlex.split(line.split(binary, 1)[1]) if t not in ("$@", "&")]


def flag_values(argv: list[str], table: dict) -> list[tuple[str, str | None]]:
    """(flag, value) pairs; every word must be a flag the table knows or the value of the one before."""
    pairs, words = [], iter(argv)
    for flag in words:
        assert flag in table, flag
        pairs.append((flag, next(words) if table[flag]["takes_value"] else None))
    return pairs


def test_committed_table_matches_the_binarys_help(tmp_path, llama_server_bin):
    """A stale table, or one for another pin than the profile's, fails here."""
    out = tmp_path / "flags.json"
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_llamacpp_flags.py"), str(llama_server_bin), str(out)],
                   check=True, capture_output=True, timeout=120)
    assert json.loads(out.read_text()) == LlamaCppTarget.flag_table()


@pytest.mark.parametrize("name", PLANS)
def test_every_emitted_flag_and_value_is_in_the_table(name):
    table = LlamaCppTarget.flag_table()["flags"]
    plan = plans.ALL[name]() if name in plans.ALL else {**EXAMPLE_PLANS, **VARIANTS}[name]
    script = files(plan)["llama.cpp/llama-server.sh"]
    pairs = flag_values(server_argv(script), table)
    assert {"-m", "-c", "-np", "-ngl", "--fit", "-fa", "-ctk", "-ctv", "--host", "--port"} <= dict(pairs).keys()
    for flag, value in pairs:
        allowed = table[flag]["choices"]
        values = value.split(",") if table[flag]["list"] else [value]
        assert allowed is None or set(values) <= set(allowed), (flag, value)


def test_the_table_rejects_what_llama_server_does_not_know():
    table = LlamaCppTarget.flag_table()["flags"]
    with pytest.raises(AssertionError):
        flag_values(["--swap-space", "4"], table)
    assert "fp8" not in table["-ctk"]["choices"] and table["-ctk"] == table["--cache-type-k"]
