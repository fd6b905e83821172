"""Hand-written configs → what they start (`ConfigFile`): one reader per kind of file.

`read_config(source)` picks the reader from the file's name and content: a Modelfile, a compose file, a
Kubernetes manifest, a vLLM `--config` YAML, else a shell script (one command line, a launch script, an
env file). A file none of them understands comes back with no servers; the caller says so.
"""

from __future__ import annotations

import os

from ..source import SourceFile
from .config import ConfigFile, Container, Port, Server, Value
from .merge import merge_servers
from .modelfile import looks_like_modelfile, read_modelfile
from .script import read_script
from .yamlfile import load_documents, read_yaml

YAML_SUFFIXES = (".yaml", ".yml")


def read_config(source: SourceFile) -> ConfigFile:
    name = os.path.basename(source.path).lower()
    if name.startswith("modelfile") or name.endswith(".modelfile") or \
            (not name.startswith(("dockerfile", "containerfile")) and looks_like_modelfile(source.text)):
        return read_modelfile(source)
    if name.endswith(YAML_SUFFIXES):
        documents, problem = load_documents(source)
        found = read_yaml(source, documents)
        config = found if found is not None else ConfigFile(source=source, kind="yaml")
        config.diagnostics += [problem] if problem else []
        return config
    return read_script(source)


__all__ = ["ConfigFile", "Container", "Port", "Server", "Value", "merge_servers", "read_config"]
