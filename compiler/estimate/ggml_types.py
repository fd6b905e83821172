"""GGML tensor types: elements per block and bytes per block (ggml/src/ggml.c type_traits, llama.cpp@0c1e57098).

A row of n elements of type t takes n / block * type_size bytes; that is how llama.cpp sizes
every weight, KV and state tensor, so byte-exact predictions use this table.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "ggml/src/ggml.c type_traits + ggml-common.h block structs (llama.cpp@0c1e57098)"


@dataclass(frozen=True)
class GgmlType:
    name: str
    block: int
    type_size: int

    @property
    def bits(self) -> float:
        return self.type_size * 8 / self.block

    def row_bytes(self, n: int) -> int:
        if n % self.block:
            raise ValueError(f"{self.name}: a row of {n} is not a multiple of the block size {self.block}")
        return n // self.block * self.type_size


TYPES = {t.name: t for t in (
    GgmlType("f32", 1, 4), GgmlType("f16", 1, 2), GgmlType("bf16", 1, 2),
    GgmlType("q8_0", 32, 34), GgmlType("q4_0", 32, 18), GgmlType("q4_1", 32, 20),
    GgmlType("q5_0", 32, 22), GgmlType("q5_1", 32, 24), GgmlType("iq4_nl", 32, 18),
    GgmlType("mxfp4", 32, 17),
    GgmlType("q2_k", 256, 84), GgmlType("q3_k", 256, 110), GgmlType("q4_k", 256, 144),
    GgmlType("q5_k", 256, 176), GgmlType("q6_k", 256, 210), GgmlType("q8_k", 256, 292),
    GgmlType("iq4_xs", 256, 136), GgmlType("iq3_s", 256, 110), GgmlType("iq2_xs", 256, 74),
    GgmlType("iq2_xxs", 256, 66), GgmlType("iq3_xxs", 256, 98), GgmlType("iq1_s", 256, 50),
)}


def ggml_type(name: str) -> GgmlType:
    key = name.lower()
    if key not in TYPES:
        raise KeyError(f"unknown ggml type {name!r}")
    return TYPES[key]


def row_bytes(type_name: str, n: int) -> int:
    return ggml_type(type_name).row_bytes(n)
