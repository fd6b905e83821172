#!/usr/bin/env bash
# The release a runtime profile pins for a test tool (Pin.test_package in compiler/runtimes/), by the
# variable the ensure-*.sh scripts read: `scripts/pin.sh VLLM_VERSION` prints 0.33.0.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python - "$1" <<'PY'
import sys

from llmc.runtimes import PROFILES

pins = dict(p.pin.test_package for p in PROFILES.values() if p.pin.test_package)
print(pins[sys.argv[1]])
PY
