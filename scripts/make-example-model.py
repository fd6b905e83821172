#!/usr/bin/env python3
"""Regenerate examples/models/tiny-llama.gguf, the model of examples/cpu-local-gguf.llmspec.

A 4-layer llama-architecture GGUF with a byte-level tokenizer and seeded random F16 weights
(tests/support/tiny_gguf.py): small enough to commit, real enough for llama-server to load and
answer (with nonsense). A test checks that the committed file equals what this script writes.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.tiny_gguf import write_tiny_gguf  # noqa: E402

EXAMPLE_MODEL = REPO / "examples" / "models" / "tiny-llama.gguf"
SHAPE = dict(n_layer=4, n_embd=128, n_head=4, n_head_kv=2, n_ff=256, n_vocab=320, n_ctx_train=8192,
             weight_type="f16", seed=7)


def main(path: Path = EXAMPLE_MODEL) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_tiny_gguf(path, **SHAPE)


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLE_MODEL))
