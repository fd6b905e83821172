"""Generate targets/llamacpp/flags_<pin>.json from the built llama-server's own `--help`.

    .venv/bin/python scripts/gen_llamacpp_flags.py "$(scripts/ensure-llama-server.sh)" [OUT]
<pin> is the catalog's llama.cpp version (compiler/catalog/data/runtimes.yaml); the binary's own
`--version` line is recorded beside it (built from the llama-cpp-python sdist it says "build 1",
but its commit is the pinned one). Choices are read where the help spells them out: a value hint
`{a,b}`, `[a|b]` or `<a|b>`, a bare comma list (`--spec-type`, which takes a comma-separated
subset: "list": true), or "allowed values: a, b" in the description. Re-run it when the pin moves;
tests/test_llamacpp_flags.py checks the committed table against the binary.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REGENERATE = '.venv/bin/python scripts/gen_llamacpp_flags.py "$(scripts/ensure-llama-server.sh)"'
# "-c,    --ctx-size N      description": names, an optional value hint, then the description
# (on the next lines instead when the left column is wider than the help's 40).
ENTRY = re.compile(r"(?P<names>-[\w.-]+(?:,\s+-[\w.-]+)*)(?: (?P<value>\S.*?))?(?:\s{2,}(?P<help>\S.*))?")
ENCLOSED = re.compile(r"\{(?P<comma>[\w.-]+(?:,[\w.-]+)+)\}|[\[<](?P<bar>[\w.-]+(?:\|[\w.-]+)+)[\]>]")
BARE_LIST = re.compile(r"[a-z][a-z0-9_-]*(?:,[a-z][a-z0-9_-]*)+")
ALLOWED = re.compile(r"allowed values: ([\w.-]+(?:, [\w.-]+)*)")


def entries(help_text: str) -> list[tuple[list[str], str | None, str]]:
    """(names, value hint, description) of every option in the help, in order."""
    found: list[tuple[list[str], str | None, list[str]]] = []
    for line in help_text.splitlines():
        if line.startswith("-----"):  # section header
            continue
        match = ENTRY.fullmatch(line.rstrip()) if line.startswith("-") else None
        if match:
            names = re.split(r",\s+", match["names"])
            found.append((names, match["value"], [match["help"] or ""]))
        elif found and line.strip():
            found[-1][2].append(line.strip())
    return [(names, value, " ".join(help_lines).strip()) for names, value, help_lines in found]


def choices(value: str | None, description: str) -> tuple[list[str] | None, bool]:
    """The allowed values the help prints, and whether a comma-separated list of them is taken."""
    if value is None:
        return None, False
    if match := ENCLOSED.fullmatch(value):
        return (match["comma"].split(",") if match["comma"] else match["bar"].split("|")), False
    if BARE_LIST.fullmatch(value):
        return value.split(","), True
    if match := ALLOWED.search(description):
        return match[1].split(", "), False
    return None, False


def table(binary: str) -> dict:
    from llmc.runtimes import profile

    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    flags = {}
    for names, value, description in entries(help_text):
        allowed, is_list = choices(value, description)
        for name in names:
            flags[name] = {"aliases": names, "takes_value": value is not None, "value": value,
                           "choices": allowed, "list": is_list}
    return {
        "llama.cpp": profile("llama.cpp").pin.version,
        "binary_version": (version.stdout + version.stderr).strip().splitlines()[0],
        "regenerate": REGENERATE,
        "flags": dict(sorted(flags.items())),
    }


def main() -> int:
    data = table(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "targets" / "llamacpp" / f"flags_{data['llama.cpp']}.json"
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
