"""format.py and `llmc fmt`: canonical layout, comments kept, idempotent, atomic in-place writes."""

from __future__ import annotations

import os
import stat

from llmc import cli
from llmc.format import format_source
from llmc.source import SourceFile

MESSY = '''# header

# second header
deployment "support-bot" {   # the service
  workload {
    task = chat   # c1
     concurrency= 16
    prompt      = 2k   tokens       # typical

    output = 512 tokens
  }
  context = 32k tokens
  latency { ttft <= 1.5s
    throughput >= 50 tok/s  # x
  # dangling
  }
  license = [apache-2.0,
     # inner
     mit,]
  hardware {
    gpu = [1 x "RTX 4090", 2x "RTX 3090"]
  }
  serve {}
}
deployment "b" { hardware { gpu = none } }
# end
'''

CANONICAL = '''# header

# second header
deployment "support-bot" {  # the service
  workload {
    task        = chat       # c1
    concurrency = 16
    prompt      = 2k tokens  # typical

    output = 512 tokens
  }
  context = 32k tokens
  latency {
    ttft       <= 1.5s
    throughput >= 50 tok/s  # x
    # dangling
  }
  # inner
  license = [apache-2.0, mit]
  hardware {
    gpu = [1 x "RTX 4090", 2 x "RTX 3090"]
  }
  serve {}
}

deployment "b" {
  hardware {
    gpu = none
  }
}
# end
'''


def _fmt(text: str) -> str | None:
    return format_source(SourceFile(path="t.llmspec", text=text))[0]


def test_messy_input_becomes_canonical():
    assert _fmt(MESSY) == CANONICAL


def test_canonical_is_a_fixed_point():
    assert _fmt(CANONICAL) == CANONICAL


def test_every_comment_survives():
    kept = [line.strip() for line in CANONICAL.splitlines() if "#" in line]
    for comment in ("# header", "# second header", "# the service", "# c1", "# typical", "# x", "# dangling",
                    "# inner", "# end"):
        assert any(k.endswith(comment) for k in kept), comment


def test_blank_lines_collapse_to_one_and_top_level_blocks_get_one():
    text = 'deployment "a" {\n  context = 1k\n\n\n\n  prefer = quality\n}\ndeployment "b" {}\n'
    assert _fmt(text) == 'deployment "a" {\n  context = 1k\n\n  prefer = quality\n}\n\ndeployment "b" {}\n'


def test_alignment_is_per_run_of_fields():
    text = 'deployment "a" {\n  model = auto\n  quantization = auto\n  workload {}\n  runtime = auto\n}\n'
    assert _fmt(text) == ('deployment "a" {\n  model        = auto\n  quantization = auto\n  workload {}\n'
                          '  runtime = auto\n}\n')


def test_empty_and_comment_only_files():
    assert _fmt("") == ""
    assert _fmt("\n\n# just a note\n\n") == "# just a note\n"


def test_syntax_error_is_not_formatted():
    out, diagnostics = format_source(SourceFile(path="t", text='deployment "a" {\n'))
    assert out is None and diagnostics[0].code == "E104"


def test_fmt_check_and_rewrite(tmp_path, capsys):
    path = tmp_path / "a.llmspec"
    path.write_text(MESSY)
    os.chmod(path, 0o640)
    assert cli.main(["fmt", "--check", str(path)]) == 1
    assert path.read_text() == MESSY
    assert "would reformat" in capsys.readouterr().err
    assert cli.main(["fmt", str(path)]) == 0
    assert path.read_text() == CANONICAL
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert cli.main(["fmt", "--check", str(path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.llmspec"]  # no temporary files left behind


def test_fmt_refuses_malformed_input(tmp_path, capsys):
    path = tmp_path / "bad.llmspec"
    path.write_text('deployment "a" {\n  context: 32k\n}\n')
    assert cli.main(["fmt", str(path)]) == 2
    assert "E103" in capsys.readouterr().err
    assert path.read_text() == 'deployment "a" {\n  context: 32k\n}\n'
    assert cli.main(["fmt", str(tmp_path / "missing.llmspec")]) == 2


def test_comment_after_closing_braces_stays_with_the_outermost_brace():
    text = 'deployment "b" { hardware { gpu = none } }  # tail\n'
    assert _fmt(text) == 'deployment "b" {\n  hardware {\n    gpu = none\n  }\n}  # tail\n'
