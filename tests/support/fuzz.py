"""Hypothesis strategies for hostile specs: every numeric field at its edges, every string field hostile.

Shared by the property tests (tests/test_fuzz_compile.py, few examples) and the fuzz benchmark
(benchmarks/fuzz.py, 10^5 inputs). A generated spec is well formed as text (strings are escaped for
the .llmspec lexer), so the values reach lowering, the checks, the solver and the targets.
"""

from __future__ import annotations

from hypothesis import strategies as st

# Ways out of every output context: shell quoting and substitution, comment and line ends, Compose
# and Kubernetes interpolation, Modelfile quotes, YAML and JSON syntax, terminal escapes, bidi controls.
FRAGMENTS = ("$(pwned)", "`pwned`", "'; pwned; '", '"; pwned; "', "\n pwned\n", "${IFS}pwned", "}", "{",
             "$$", "$(HF_TOKEN)", '"""', "\\", "#", " ", "\t", "\r", "\x00", "\x1b[2J", "\u202e", "é", "中",
             ":", "/", "..", "-", "--", "_", "a" * 70, "[::1]", "0.0.0.0", "localhost", "sk-live-0123456789",
             "hf_ABCDEFGHIJKLMNOPQRSTUVWX", "LLMC_API_KEY", "{{ x }}", "{% raw %}", "key: value", "- item",
             "&anchor", "*alias", "!!python/object", "%0A", "\u2028")
hostile_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=6).map("".join)

EDGES = ("0", "-1", "63", "64", "255", "256", "257", "1023", "1024", "1025", "65535", "65536", "100000",
         "100001", "4294967296", "9" * 40, "9" * 400, "0.5", "1.5", "0.0000001", "1e3", "-0")
# One number in four is at an edge, so that many specs get past the checks into the solver and targets.
ORDINARY = ("1", "2", "4", "8", "16", "32", "100")
number_text = st.integers(0, 3).flatmap(lambda i: st.sampled_from(EDGES if i == 0 else ORDINARY))
token_unit = st.sampled_from(("k", "k", "", "M", " tokens", "k tokens"))
byte_unit = st.sampled_from((" GiB", " GiB", " MiB", " TiB", " GB", " B", ""))
time_unit = st.sampled_from(("ms", "s", "us", "min"))
GPUS = ('"RTX 4090"', '"H100 SXM"', '"RTX 3090"', '"A100 80GB"', '"L40S"', '"RTX 4060 Ti 16GB"', '"no such gpu"')


def lexer_string(text: str) -> str:
    """`text` as a .llmspec string literal (the lexer's escapes: \\" and \\\\; no raw line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ") + '"'


@st.composite
def hostile_specs(draw, strings: bool = True) -> str:
    """A spec whose every field is drawn at its edges; strings are hostile (none with `strings=False`,
    so that most specs reach the solver)."""
    lines = ['deployment "fuzz" {', "  workload {"]
    for field in ("concurrency", "prompt", "output"):
        if draw(st.booleans()):
            unit = "" if field == "concurrency" else draw(token_unit)
            lines.append(f"    {field} = {draw(number_text)}{unit}")
    lines.append("  }")
    if draw(st.booleans()):
        lines.append(f"  context = {draw(number_text)}{draw(token_unit)}")
    lines.append("  latency {")
    if draw(st.booleans()):
        lines.append(f"    ttft <= {draw(number_text)}{draw(time_unit)}")
    if draw(st.booleans()):
        lines.append(f"    decode >= {draw(number_text)} tok/s")
    if draw(st.booleans()):
        lines.append(f"    throughput >= {draw(number_text)} tok/s")
    lines += ["  }", "  hardware {"]
    gpu = draw(st.sampled_from(("none", *GPUS)))
    lines.append("    gpu = none" if gpu == "none" else f"    gpu = {draw(number_text)} x {gpu}")
    if gpu == "none" or draw(st.booleans()):
        lines.append(f"    memory = {draw(number_text)}{draw(byte_unit)}")
    if draw(st.booleans()):
        lines.append(f"    nodes = {draw(number_text)}")
    lines += ["  }", "  serve {"]
    for field in ("host", "name") if strings else ():
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"    {field} = {lexer_string(draw(hostile_text))}")
    if strings and draw(st.integers(0, 3)) == 0:
        lines.append(f"    api_key = env({lexer_string(draw(hostile_text))})")
    if draw(st.booleans()):
        lines.append(f"    port = {draw(number_text)}")
    lines.append("  }")
    if strings and draw(st.integers(0, 3)) == 0:
        lines.append(f"  model = local({lexer_string(draw(hostile_text))})")
    lines.append("}")
    return "\n".join(lines) + "\n"


# A valid spec with one hostile value in a `serve` field, which reaches the artifacts when accepted.
VALID = """deployment "fuzz" {{
  hardware {{
    gpu = 1 x "RTX 4090"
  }}
  serve {{
    {statement}
  }}
  emit = [compose, kubernetes]
}}
"""


@st.composite
def served_specs(draw) -> tuple[str, str, str]:
    """(spec text, field, hostile value) with the value in serve.name, serve.host or api_key = env(...)."""
    field, value = draw(st.sampled_from(("name", "host", "api_key"))), draw(hostile_text)
    statement = f"api_key = env({lexer_string(value)})" if field == "api_key" else f"{field} = {lexer_string(value)}"
    return VALID.format(statement=statement), field, value


def compile_text(text: str, directory, catalog):
    """The whole compile path (front end, solve, every target) on `text`, in process."""
    from llmc.driver import compile_file

    spec = directory / "fuzz.llmspec"
    spec.write_text(text, encoding="utf-8")
    return compile_file(str(spec), catalog=catalog)
