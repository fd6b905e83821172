"""render.py: the five formats, colour only on request, and the docs pages."""

from __future__ import annotations

import json

from llmc import cli
from llmc.diagnostics import Label, error, warning
from llmc.render import docs_page, documented_codes, render, render_full
from llmc.source import SourceFile, Span

TEXT = 'deployment "a" {\n\tcontext = 32k\n  context = 24 GB\n}\n'
SOURCE = SourceFile(path="a.llmspec", text=TEXT)
SOURCES = {"a.llmspec": SOURCE}


def _span(line, col, end_col):
    return Span(file="a.llmspec", line=line, col=col, end_line=line, end_col=end_col)


REPEAT = error("E204", "`context` is set twice", span=_span(3, 3, 10), label="set again here",
               labels=(Label(span=_span(2, 2, 9), message="first set here"),), detail="Each field once.",
               help="remove one of them")
WARN = warning("W220", "exposed", span=_span(1, 12, 15))


def test_full_matches_rustc_layout():
    assert render_full([REPEAT], SOURCES) == (
        "error[E204]: `context` is set twice\n"
        " --> a.llmspec:3:3\n"
        "  |\n"
        "2 |     context = 32k\n"
        "  |     ------- first set here\n"
        "3 |   context = 24 GB\n"
        "  |   ^^^^^^^ set again here\n"
        "  |\n"
        "  = note: Each field once.\n"
        "  = help: remove one of them\n")


def test_full_without_span_or_notes():
    d = error("E001", "cannot read `x`", file="x")
    assert render_full([d], {}) == "error[E001]: cannot read `x`\n --> x\n"


def test_full_gap_between_distant_lines_and_multiline_span():
    text = "\n".join(f"line{n}" for n in range(1, 13)) + "\n"
    src = {"b": SourceFile(path="b", text=text)}
    d = error("E101", "x", span=Span(file="b", line=11, col=1, end_line=12, end_col=3),
              labels=(Label(span=Span(file="b", line=2, col=1, end_line=2, end_col=2), message="here"),))
    out = render_full([d], src)
    assert out.endswith("  --> b:11:1\n   |\n 2 | line2\n   | - here\n...\n11 | line11\n   | ^^^^^^\n")


def test_labels_in_another_file():
    other = SourceFile(path="b.llmspec", text="x = 1\n")
    d = error("E208", "twice", span=_span(1, 1, 3),
              labels=(Label(span=Span(file="b.llmspec", line=1, col=1, end_line=1, end_col=2), message="first"),))
    out = render_full([d], {**SOURCES, "b.llmspec": other})
    assert " ::: b.llmspec:1:1\n" in out and "x = 1" in out


def test_colour_only_when_asked():
    assert "\x1b[" not in render([REPEAT], SOURCES, "full", colour=False)
    coloured = render([REPEAT], SOURCES, "full", colour=True)
    assert "\x1b[1;31merror[E204]\x1b[0m" in coloured
    assert "\x1b[" in render([REPEAT], SOURCES, "concise", colour=True)


def test_concise():
    assert render([REPEAT, WARN], SOURCES, "concise") == (
        "a.llmspec:3:3: E204 `context` is set twice\na.llmspec:1:12: W220 exposed\n")


def test_json_is_a_list_of_objects():
    data = json.loads(render([REPEAT, WARN], SOURCES, "json"))
    assert [d["code"] for d in data] == ["E204", "W220"]
    assert data[0]["span"] == {"file": "a.llmspec", "line": 3, "col": 3, "end_line": 3, "end_col": 10}
    assert data[0]["labels"][0]["message"] == "first set here" and data[1]["severity"] == "warning"


def test_sarif_2_1_0():
    log = json.loads(render([REPEAT, WARN], SOURCES, "sarif"))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "llmc"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["E204", "W220"]
    first = run["results"][0]
    assert first["ruleId"] == "E204" and first["level"] == "error"
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 3, "endLine": 3, "endColumn": 10}
    assert first["relatedLocations"][0]["message"]["text"] == "first set here"
    assert run["results"][1]["level"] == "warning"


def test_github_annotations_escape_properties_and_messages():
    d = error("E101", "50% of a\nline", span=Span(file="dir,x:y.llmspec", line=2, col=3, end_line=2, end_col=4))
    assert render([d, WARN], {}, "github") == (
        "::error file=dir%2Cx%3Ay.llmspec,line=2,col=3,endLine=2,endColumn=4,title=E101::E101 50%25 of a%0Aline\n"
        "::warning file=a.llmspec,line=1,col=12,endLine=1,endColumn=15,title=W220::W220 exposed\n")


def test_docs_pages_come_from_the_package():
    page = docs_page("E101")
    assert page.startswith("# E101: ") and "## Fix" in page
    assert docs_page("e101") == page
    assert docs_page("E999") is None and docs_page("../README") is None
    assert "E204" in documented_codes()


def test_check_formats_through_the_cli(tmp_path, capsys):
    path = tmp_path / "bad.llmspec"
    path.write_text('deployment "a" {\n  context = 24 GB\n  hardware {\n    gpu = none\n  }\n}\n')
    for fmt in ("json", "sarif", "github"):
        assert cli.main(["check", "--format", fmt, str(path)]) == 2
        out = capsys.readouterr().out
        assert "E205" in out
        if fmt != "github":
            json.loads(out)
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error[E205]" in err and "\x1b[" not in err and "checked 1 file, 0 feasible deployments: 1 error, 0 warnings" in err


def test_explain_prints_the_page_and_suggests_codes(capsys):
    assert cli.main(["explain", "E204"]) == 0
    assert capsys.readouterr().out.startswith("# E204: Field set twice")
    assert cli.main(["explain", "E2O4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llmc: no diagnostic code `E2O4`; did you mean ") and "'E204'" in err


def test_carets_line_up_under_wide_characters_and_tabs():
    src = {"w": SourceFile(path="w", text='\tname = "日本" x\n')}
    d = error("E101", "x", span=Span(file="w", line=1, col=14, end_line=1, end_col=15))  # the `x`
    out = render_full([d], src)
    assert '1 |     name = "日本" x\n  | ' + " " * 18 + "^\n" in out


def test_span_into_a_file_we_do_not_have_shows_its_location_only():
    d = error("E302", "bad record", span=Span(file="catalog/gpus.yaml", line=3, col=1, end_line=3, end_col=2))
    assert render_full([d], {}) == "error[E302]: bad record\n --> catalog/gpus.yaml:3:1\n"
