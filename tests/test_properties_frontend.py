"""Property tests for the front end (hypothesis).

- Any text, and any mutation of an example, yields a Spec or coded diagnostics: never an exception.
- `llmc check` on such input exits 0, 1 or 2 and never prints a traceback.
- The formatter is idempotent and preserves meaning: parse(fmt(x)) == parse(x), spans aside.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llmc.diagnostics import CODES
from llmc.driver import load_source
from llmc.format import format_source
from llmc.catalog import format_ids, kv_type_ids
from llmc.render import render
from llmc.source import SourceFile
from llmc.spec import EMITS, PREFERENCES, RUNTIMES, TASKS

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.llmspec"))]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = st.sampled_from(list('deployment"{}[]()=<>#,:.x kMGiBs tok/\n\t\\0123456789-_aé'))


def _front_end(text: str):
    source = SourceFile(path="p.llmspec", text=text)
    spec, diagnostics, malformed = load_source(source)
    return source, spec, diagnostics, malformed


def _assert_well_behaved(text: str) -> None:
    source, spec, diagnostics, malformed = _front_end(text)
    assert all(d.code in CODES for d in diagnostics)
    assert (spec is None) == malformed
    if malformed:
        assert any(d.is_error for d in diagnostics)
    for d in diagnostics:
        assert d.span is None or 1 <= d.span.line <= text.count("\n") + 2
    for fmt in ("full", "concise", "json", "sarif", "github"):
        render(diagnostics, {source.path: source}, fmt)


# -- random input ---------------------------------------------------------------

@SETTINGS
@given(st.text(max_size=300))
def test_any_text_gives_diagnostics_not_exceptions(text):
    _assert_well_behaved(text)


@SETTINGS
@given(st.text(alphabet=ALPHABET, max_size=200))
def test_language_like_noise_gives_diagnostics_not_exceptions(text):
    _assert_well_behaved(text)


@st.composite
def mutated_example(draw):
    text = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        piece = draw(st.sampled_from(['"', "{", "}", "[", "]", "=", ":", "k", " x ", "GiB", "\n", "#", "1.5", ",",
                                      "none", "any", "<=", "tokens", "(", ")", "\\"]))
        end = min(len(text), at + draw(st.integers(1, 12)))
        if action == "delete":
            text = text[:at] + text[end:]
        elif action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "replace":
            text = text[:at] + piece + text[end:]
        else:
            text = text[:at] + text[at:end] + text[at:]
    return text


@SETTINGS
@given(mutated_example())
def test_mutated_examples_give_diagnostics_not_exceptions(text):
    _assert_well_behaved(text)


@settings(max_examples=8, deadline=None)
@given(mutated_example())
def test_cli_never_prints_a_traceback(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cli") / "m.llmspec"
    path.write_text(text + "\n}\n", encoding="utf-8")  # one closing brace too many: always malformed
    run = subprocess.run([sys.executable, "-m", "llmc.cli", "check", "--format", "concise", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and run.stderr.startswith(str(path))


# -- generated valid specs -------------------------------------------------------

def _gap(draw) -> str:
    return draw(st.sampled_from([" ", "  ", "\t", " "]))


def _end(draw) -> str:
    comment = draw(st.sampled_from(["", "", "  # note", " # a, b = c { }"]))
    return comment + draw(st.sampled_from(["\n", "\n", "\n\n", "\n  \n\n"]))


@st.composite
def valid_spec(draw):
    def statement(name: str, op: str, value: str) -> str:
        return f"{name}{_gap(draw)}{op}{_gap(draw)}{value}{_end(draw)}"

    def block(name: str, statements: list[str]) -> str:
        return f"{name} {{{_end(draw)}" + "".join(statements) + f"}}{_end(draw)}"

    def maybe(options: list[str]) -> list[str]:
        return draw(st.lists(st.sampled_from(options), unique=True, max_size=len(options)))

    tokens = st.sampled_from(["1k", "512 tokens", "2k tokens", "4096", "300", "1.5k"])
    workload = []
    for field in maybe(["task", "concurrency", "prompt", "output"]):
        value = {"task": st.sampled_from(TASKS), "concurrency": st.integers(1, 512).map(str)}.get(field, tokens)
        workload.append(statement(field, "=", draw(value)))
    latency = []
    for field in maybe(["ttft", "tpot", "throughput"]):
        value = draw(st.sampled_from(["1.5s", "50ms", "250 us", "2 min"] if field != "throughput"
                                     else ["400 tok/s", "20tok/s"]))
        latency.append(statement(field, draw(st.sampled_from(["<=", "<"] if field != "throughput" else [">=", ">"])),
                                 value))
    gpu = draw(st.sampled_from(['none', '2 x "RTX 4090"', '1x "H100 SXM"', '[1 x "L4", 2 x "L40S"]']))
    hardware = [statement("gpu", "=", gpu)]
    for field in maybe(["memory", "nodes", "link", "p2p"]):
        value = {"memory": st.sampled_from(["128 GiB", "64GB", "0", "1 TiB"]), "nodes": st.integers(1, 8).map(str),
                 "link": st.sampled_from(["pcie", "nvlink"]), "p2p": st.sampled_from(["true", "false"])}[field]
        hardware.append(statement(field, "=", draw(value)))
    top = []
    words = {
        "context": st.sampled_from(["32k", "8k tokens", "131072", "1M"]),
        "license": st.sampled_from(["any", "permissive", "[apache-2.0, mit]", "[Llama3.1]", "gemma"]),
        "model": st.sampled_from(["auto", '"Qwen/Qwen3-8B"', 'any ["a/b", "c/d",]', 'local("m.gguf")']),
        "quantization": st.sampled_from(["auto", *format_ids()[:5], "any [Q4_K_M, fp8]"]),
        "kv_cache": st.sampled_from(["auto", *kv_type_ids()]),
        "runtime": st.sampled_from(["auto", *RUNTIMES, "any [vllm, llama.cpp]"]),
        "prefer": st.sampled_from(PREFERENCES),
        "emit": st.sampled_from(["[]", "compose", f"[{', '.join(EMITS)}]"]),
    }
    for field in maybe(list(words)):
        top.append(statement(field, "=", draw(words[field])))
    parts = top + [block("hardware", hardware)]
    if workload:
        parts.append(block("workload", workload))
    if latency:
        parts.append(block("latency", latency))
    if draw(st.booleans()):
        parts.append(block("serve", [statement("port", "=", "8000"), statement("api_key", "=", 'env("K")')]))
    order = draw(st.permutations(parts))
    name = draw(st.from_regex(r"[a-z](?:[a-z0-9-]{0,9}[a-z0-9])?", fullmatch=True))  # an RFC 1035 label
    return f'# generated\ndeployment "{name}" {{{_end(draw)}' + "".join(order) + "}\n"


def _without_spans(value):
    if isinstance(value, dict):
        return {k: _without_spans(v) for k, v in value.items() if not k.endswith("span") and k != "file"}
    if isinstance(value, list):
        return [_without_spans(v) for v in value]
    return value


@SETTINGS
@given(valid_spec())
def test_formatting_is_idempotent_and_keeps_the_meaning(text):
    source, spec, diagnostics, malformed = _front_end(text)
    assert not malformed, diagnostics
    formatted, _ = format_source(source)
    assert format_source(SourceFile(path="p.llmspec", text=formatted))[0] == formatted
    _, again, _, malformed_again = _front_end(formatted)
    assert not malformed_again
    assert _without_spans(again.model_dump(mode="json")) == _without_spans(spec.model_dump(mode="json"))
    assert formatted.count("#") == text.count("#")  # every comment kept (generated strings hold no `#`)


@SETTINGS
@given(mutated_example())
def test_fmt_is_idempotent_on_whatever_parses(text):
    formatted, diagnostics = format_source(SourceFile(path="p.llmspec", text=text))
    if formatted is not None:
        assert format_source(SourceFile(path="p.llmspec", text=formatted))[0] == formatted
