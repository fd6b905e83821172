"""checks.py: semantic rules that need no catalog. An error from a check is malformed input (exit 2);
warnings alone keep exit 0."""

from __future__ import annotations

import pytest
from llmc import cli
from llmc.checks import RULES
from llmc.driver import load_source
from llmc.source import SourceFile


def _diagnostics(body: str, hardware: str = 'gpu = 1 x "RTX 4090"'):
    source = SourceFile(path="t.llmspec", text=f'deployment "a" {{\n{body}\n  hardware {{\n    {hardware}\n  }}\n}}\n')
    spec, diagnostics, malformed = load_source(source)
    assert not malformed, diagnostics
    return diagnostics


def _codes(body: str, **kw) -> list[str]:
    return [d.code for d in _diagnostics(body, **kw)]


def test_every_rule_has_a_code_that_is_registered():
    from llmc.diagnostics import CODES
    assert RULES and all(code in CODES for code in RULES)


@pytest.mark.parametrize("body, codes", [
    ('  serve {\n    host = "0.0.0.0"\n  }', ["W220"]),
    ('  serve {\n    host = "0.0.0.0"\n    api_key = env("K")\n  }', []),
    ('  serve {\n    host = "127.0.0.1"\n  }', []),
    ('  serve {\n    host = "::1"\n  }', []),
    ('  serve {\n    host = "localhost"\n  }', []),
    ('  serve {\n    host = "192.168.1.10"\n  }', ["W220"]),
    ("  workload {\n    concurrency = 0\n  }", ["E221"]),
    ("  serve {\n    port = 0\n  }", ["E222"]),
    ("  serve {\n    port = 70000\n  }", ["E222"]),
    ("  latency {\n    ttft <= 0s\n  }", ["E223"]),
    ("  latency {\n    tpot <= 50ms\n    decode >= 30 tok/s\n  }", ["E224"]),
    ("  latency {\n    tpot <= 50ms\n    decode >= 20 tok/s\n  }", []),
    ("  latency {\n    tpot <= 50ms\n    decode >= 10 tok/s\n  }", []),
    ("  workload {\n    output = 64k\n  }\n  context = 32k", ["E225"]),
    ("  workload {\n    prompt = 30k\n    output = 4k\n  }\n  context = 32k", ["W226"]),
    ("  workload {\n    prompt = 28k\n    output = 4k\n  }\n  context = 32k", []),
    ("  workload {\n    prompt = 20k\n    output = 4k\n    spread = 0.5\n  }\n  context = 32k", ["W226"]),
    ("  workload {\n    prompt = 20k\n    output = 4k\n    spread = 0.25\n  }\n  context = 32k", []),
    ("  workload {\n    spread = 1.5\n  }", ["E229"]),
    ("  emit = [compose, compose]", ["W227"]),
    ("  runtime = any [vllm, vllm]", ["W227"]),
])
def test_rules(body, codes):
    assert _codes(body) == codes


def test_zero_nodes_and_zero_gpus():
    assert _codes("", hardware='gpu = 0 x "RTX 4090"') == ["E221"]
    assert _codes("", hardware='gpu = 1 x "RTX 4090"\n    nodes = 0') == ["E221"]


def test_link_without_gpus_warns():
    assert _codes("", hardware="gpu = none\n    link = nvlink\n    p2p = true") == ["W228", "W228"]


def test_conflict_points_at_both_bounds():
    d = _diagnostics("  latency {\n    tpot <= 50ms\n    decode >= 30 tok/s\n  }")[0]
    assert d.span.line == 4 and d.labels[0].span.line == 3 and "20 tok/s" in d.summary


def test_check_exit_codes(tmp_path, capsys):
    ok, warn, failed = tmp_path / "ok.llmspec", tmp_path / "warn.llmspec", tmp_path / "failed.llmspec"
    hw = '  hardware {\n    gpu = none\n    memory = 32 GiB\n  }\n'
    ok.write_text(f'deployment "a" {{\n{hw}}}\n')
    warn.write_text(f'deployment "a" {{\n  serve {{\n    host = "0.0.0.0"\n  }}\n{hw}}}\n')
    failed.write_text(f'deployment "a" {{\n  serve {{\n    port = 0\n  }}\n{hw}}}\n')
    assert cli.main(["check", str(ok)]) == 0
    assert cli.main(["check", str(warn)]) == 0
    assert cli.main(["check", str(failed)]) == 2
    assert cli.main(["check", str(failed), str(tmp_path / "missing.llmspec")]) == 2
    err = capsys.readouterr().err
    assert "E001" in err and "E222" in err
