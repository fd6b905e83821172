"""Build Deployments from .llmspec text through the real front end."""

from __future__ import annotations

from llmc.driver import load_source
from llmc.source import SourceFile
from llmc.spec import Deployment


def deployment(text: str, path: str = "test.llmspec") -> Deployment:
    spec, diagnostics, _ = load_source(SourceFile(path=path, text=text))
    errors = [d for d in diagnostics if d.is_error]
    assert spec is not None and not errors, [d.summary for d in diagnostics]
    return spec.deployments[0]


def spec_text(hardware: str, *, body: str = "", name: str = "t") -> str:
    return f'deployment "{name}" {{\n{body}\n  hardware {{\n{hardware}\n  }}\n}}\n'
