"""parse.py: the grammar accepts the language, and syntax errors come back as coded diagnostics."""

from __future__ import annotations

import pytest
from lark import Tree
from llmc.parse import comments, grammar, parse, split_number
from llmc.source import SourceFile


def _parse(text: str):
    return parse(SourceFile(path="t.llmspec", text=text))


def _only(text: str):
    tree, diagnostics = _parse(text)
    assert len(diagnostics) == 1, diagnostics
    d = diagnostics[0]
    return d.code, (d.span.line, d.span.col) if d.span else None, d


def _values(text: str) -> list[Tree]:
    tree, diagnostics = _parse(f'deployment "a" {{\n  x = {text}\n}}\n')
    assert diagnostics == [], diagnostics
    return [t for t in tree.iter_subtrees_topdown() if t.data == "attribute"][0].children[2]


def test_grammar_is_loaded_from_the_installed_package():
    assert grammar() is grammar()
    assert grammar().options.parser == "lalr"


@pytest.mark.parametrize("text, kind", [
    ("chat", "word"), ("apache-2.0", "word"), ("llama.cpp", "word"), ("q4_k_m", "word"), ("none", "word"),
    ('"RTX 4090"', "string"), ("32k", "number"), ("2k tokens", "number"), ("1.5s", "number"), ("50 ms", "number"),
    ("128 GiB", "number"), ("400 tok/s", "number"), ("400tok/s", "number"), ('2 x "RTX 4090"', "gpu_count"),
    ('2x "RTX 4090"', "gpu_count"), ("[apache-2.0, mit]", "list"), ("[mit,]", "list"), ("[]", "list"),
    ("any [vllm, llama.cpp]", "qualified_list"), ('local("models/m.gguf")', "call"), ('env("KEY")', "call"),
    ('[1 x "RTX 4090", 1 x "RTX 3090"]', "list"),
])
def test_every_value_form_parses(text, kind):
    assert _values(text).data == kind


@pytest.mark.parametrize("text, magnitude, suffix", [
    ("32k", "32", "k"), ("1.5s", "1.5", "s"), ("16", "16", ""), ("128GiB", "128", "GiB"), ("2x", "2", "x"),
    ("400tok/s", "400", "tok/s"),
])
def test_split_number(text, magnitude, suffix):
    assert split_number(text) == (magnitude, suffix)


def test_units_are_words_only_after_numbers():
    # `s` is a unit, but a field named `serve` right after a number is the next statement.
    tree, diagnostics = _parse('deployment "a" {\n  context = 16\n  serve { port = 1 }\n}\n')
    assert diagnostics == []
    assert [t.children[0].value for t in tree.children[0].children if isinstance(t, Tree)][-1] == "serve"


def test_several_deployments_and_comments_parse():
    tree, diagnostics = _parse('# top\ndeployment "a" { }  # x\n\ndeployment "b" {\n  # inside\n}\n')
    assert diagnostics == [] and len(tree.children) == 2


def test_bounds_keep_their_operator():
    tree, _ = _parse('deployment "a" { latency { ttft <= 1s  tpot < 2s  decode >= 3 tok/s  throughput > 4 tok/s } }')
    ops = [b.children[1].children[0].value for b in tree.iter_subtrees_topdown() if b.data == "bound"]
    assert sorted(ops) == sorted(["<=", "<", ">=", ">"])


@pytest.mark.parametrize("text, code, where", [
    ('deployment "a" {\n  workload {\n    task chat\n  }\n}\n', "E102", (3, 5)),
    ('deployment "a" {\n  task chat\n}\n', "E102", (2, 3)),
    ('deployment "a" {\n  context: 32k\n}\n', "E103", (2, 10)),
    ('deployment "a" {\n  workload {\n    task = chat\n  }\n', "E104", (1, 16)),
    ('deployment "a" {\n  license = [mit\n}\n', "E104", (2, 13)),
    ('deployment "a" {\n  model = "abc\n}\n', "E105", (2, 11)),
    ('deployment "a" {\n  context = 32kk\n}\n', "E106", (2, 13)),
    ('deployment "a" {\n  memory = 2k GB\n}\n', "E106", (2, 12)),
    ('deployment "a" {\n  context = 32k tokens tokens\n}\n', "E107", (2, 24)),
    ('deployment "a" {\n  ttft <= 1s ms\n}\n', "E107", (2, 14)),
    ('deployment "a" {\n  gpu = 2 GiB x "RTX 4090"\n}\n', "E107", (2, 11)),
    ('deployment "a" {\n  gpu = 2 x RTX4090\n}\n', "E108", (2, 13)),
    ('deployment a-b {\n}\n', "E108", (1, 12)),
    ('deployment "a" {\n  host = 0.0.0.0\n}\n', "E109", (2, 13)),
    ('deployment "a" {\n  model = "a\\qb"\n}\n', "E110", (2, 13)),
    ('deployment "a" {\n}\n}\n', "E101", (3, 1)),
    ('deployment "a" {\n  task =\n}\n', "E101", (3, 1)),
    ('deployment "a" {\n  gpu = 2 "RTX 4090"\n}\n', "E101", (2, 9)),
])
def test_syntax_errors_have_a_code_and_a_place(text, code, where):
    got, place, _ = _only(text)
    assert (got, place) == (code, where)


def test_missing_eq_suggests_the_fix():
    _, _, d = _only('deployment "a" {\n  license [mit, apache-2.0]  # ok\n}\n')
    assert d.help == "write `license = [mit, apache-2.0]`"


def test_unclosed_brace_points_at_the_opener_and_the_end():
    _, _, d = _only('deployment "a" {\n  hardware {\n    gpu = none\n  }\n')
    assert (d.span.line, d.span.col) == (1, 16)
    assert d.labels[0].message == "the file ends here; expected `}`"
    # the last `}` is indented as the deployment's: the block left open is `hardware`
    _, _, d = _only('deployment "a" {\n  hardware {\n    gpu = none\n}\n')
    assert (d.span.line, d.span.col) == (2, 12)
    assert d.labels[0].message == "the file ends here; expected `}`"


def test_generic_errors_name_terminals_in_words():
    _, _, d = _only('deployment "a" {\n  license = [mit mit]\n}\n')
    assert d.summary == "unexpected `mit` in a list" and "`,`" in d.extra["label"]
    _, _, d = _only('deployment "a" {\n  x = 1 = 2\n}\n')
    assert d.code == "E101" and "NAME" not in d.summary and "RBRACE" not in d.summary


def test_bad_number_suffix_suggests_the_nearest_unit():
    _, _, d = _only('deployment "a" {\n  memory = 64gib\n}\n')
    assert d.help.startswith("did you mean 'GiB'")


def test_colon_and_semicolon_and_quotes_get_specific_help():
    assert _only('deployment "a" {\n  context: 32k\n}\n')[2].help == "replace `:` with `=`"
    assert "`;`" in _only('deployment "a" {\n  context = 32k;\n}\n')[2].help
    assert _only("deployment 'a' {\n}\n")[2].help == "strings use double quotes"


def test_empty_input_parses_to_nothing():
    tree, diagnostics = _parse("")
    assert tree.children == [] and diagnostics == []


def test_comments_outside_strings_are_found():
    text = 'a = "# not a comment"  # real\n# whole line\nb = "x\\"#" # after an escaped quote\n'
    found = comments(text)
    assert [(c.line, c.col, c.text) for c in found] == [
        (1, 24, "# real"), (2, 1, "# whole line"), (3, 12, "# after an escaped quote")]
