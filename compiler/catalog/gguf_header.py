"""A fast GGUF header reader: metadata and tensor table, without materialising the vocabulary.

gguf-py's GGUFReader builds an object per array element, which takes ~25 s on a 262k-token
vocabulary; this reads the same header (GGUF v2/v3 layout, gguf-py constants for type sizes) in
well under a second. Large arrays are skipped and stored as their length.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

MAGIC = b"GGUF"
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9
KEEP_ARRAY = 4096  # arrays longer than this (vocabularies, merges) are kept as their length only


class SkippedArray(int):
    """The length of an array that was not read (e.g. tokenizer.ggml.tokens)."""


@dataclass(frozen=True)
class GgufTensor:
    name: str
    type_name: str
    shape: tuple[int, ...]
    n_bytes: int
    offset: int          # from the start of the data section


@dataclass(frozen=True)
class GgufHeader:
    version: int
    fields: dict[str, Any]
    tensors: tuple[GgufTensor, ...]
    data_start: int
    file_size: int


def read_header(path: Path) -> GgufHeader:
    """Raises ValueError for anything that is not a readable GGUF file."""
    with open(path, "rb") as handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            raise ValueError("empty file") from None
        with view:
            try:
                return _parse(view)
            except (struct.error, IndexError, UnicodeDecodeError) as exc:
                raise ValueError(f"truncated or corrupt GGUF header ({exc})") from None


def _parse(buf: mmap.mmap) -> GgufHeader:
    if buf[:4] != MAGIC:
        raise ValueError(f"not a GGUF file (magic {bytes(buf[:4])!r}, expected b'GGUF')")
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
    if version < 2:
        raise ValueError(f"GGUF version {version} is not supported (need 2 or 3)")
    pos = 24
    fields: dict[str, Any] = {}
    for _ in range(n_kv):
        key, pos = _string(buf, pos)
        (vtype,), pos = struct.unpack_from("<I", buf, pos), pos + 4
        fields[key], pos = _value(buf, pos, vtype)
    infos = []
    for _ in range(n_tensors):
        name, pos = _string(buf, pos)
        (n_dims,), pos = struct.unpack_from("<I", buf, pos), pos + 4
        dims = struct.unpack_from(f"<{n_dims}Q", buf, pos)
        pos += 8 * n_dims
        ttype, offset = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        infos.append((name, dims, ttype, offset))
    alignment = int(fields.get("general.alignment", 32))
    data_start = (pos + alignment - 1) // alignment * alignment
    return GgufHeader(version=version, fields=fields, tensors=tuple(_tensor(*i) for i in infos),
                      data_start=data_start, file_size=len(buf))


def _tensor(name: str, dims: tuple[int, ...], ttype: int, offset: int) -> GgufTensor:
    qtype = GGMLQuantizationType(ttype)
    block, size = GGML_QUANT_SIZES[qtype]
    elements = 1
    for d in dims:
        elements *= d
    if elements % block:
        raise ValueError(f"tensor {name}: {elements} elements is not a multiple of the {qtype.name} block ({block})")
    return GgufTensor(name=name, type_name=qtype.name.lower(), shape=tuple(int(d) for d in dims),
                      n_bytes=elements // block * size, offset=int(offset))


def _string(buf: mmap.mmap, pos: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<Q", buf, pos)
    start = pos + 8
    return bytes(buf[start:start + length]).decode("utf-8"), start + length


def _value(buf: mmap.mmap, pos: int, vtype: int) -> tuple[Any, int]:
    if vtype in SCALARS:
        fmt = SCALARS[vtype]
        return struct.unpack_from(fmt, buf, pos)[0], pos + struct.calcsize(fmt)
    if vtype == STRING:
        return _string(buf, pos)
    if vtype == ARRAY:
        etype, count = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        if etype in SCALARS:
            size = struct.calcsize(SCALARS[etype])
            if count > KEEP_ARRAY:
                return SkippedArray(count), pos + size * count
            return list(struct.unpack_from(f"<{count}{SCALARS[etype][1]}", buf, pos)), pos + size * count
        items = []
        for _ in range(count):
            item, pos = _value(buf, pos, etype)
            if count <= KEEP_ARRAY:
                items.append(item)
        return (items if count <= KEEP_ARRAY else SkippedArray(count)), pos
    raise ValueError(f"unknown GGUF value type {vtype}")
