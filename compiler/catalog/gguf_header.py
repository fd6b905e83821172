"""A fast GGUF header reader: metadata and tensor table, without materialising the vocabulary.

gguf-py's GGUFReader builds an object per array element, which takes ~25 s on a 262k-token
vocabulary; this reads the same header (GGUF v2/v3 layout, gguf-py constants for type sizes) in
well under a second. Large arrays and strings are skipped and stored as their length.

Every length and count is checked against the file before it is used, and the checks llama.cpp's
gguf.cpp makes (version, alignment, dimensions, no nested arrays, tensor data inside the file) are
made here too, so a corrupt header fails fast with a ValueError instead of allocating or looping
on a number it claims.
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
KEEP_ARRAY = 4096       # arrays longer than this (vocabularies, merges) are kept as their length only
KEEP_STRING = 1 << 20   # so are strings longer than this (an embedded tokenizer.json)

# Bounds on the work a header can ask for, far above real files (~50 keys, ~3,000 tensors, at most
# ~1M vocabulary and merge strings); a corrupt count otherwise means billions of loop turns.
MAX_KEYS = 1 << 16
MAX_TENSORS = 1 << 16
MAX_ARRAY_STRINGS = 1 << 21   # strings inside arrays, all arrays together
MAX_DIMS = 4                  # GGML_MAX_DIMS
MAX_NAME = 63                 # llama.cpp rejects tensor names of GGML_MAX_NAME (64) bytes or more
INT64_MAX = 2**63 - 1         # ggml counts elements in int64


class SkippedArray(int):
    """The length of an array that was not read (e.g. tokenizer.ggml.tokens)."""


class SkippedString(int):
    """The byte length of a string that was not read."""


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
    """Raises ValueError for anything that is not a readable GGUF file (OSError when it cannot be opened)."""
    if not path.is_file():
        raise ValueError("not a regular file")
    with open(path, "rb") as handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            raise ValueError("empty file") from None
        with view:
            try:
                return _parse(_Reader(view))
            except (struct.error, UnicodeDecodeError) as exc:
                raise ValueError(f"truncated or corrupt GGUF header ({exc})") from None


class _Reader:
    """A position in the mapped file; every read is checked against its end."""

    def __init__(self, buf: mmap.mmap):
        self.buf, self.pos = buf, 0
        self.array_strings_left = MAX_ARRAY_STRINGS

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def skip(self, n_bytes: int, what: str) -> int:
        """Move past `n_bytes`; returns where they start."""
        start = self.pos
        if n_bytes > len(self.buf) - start:
            raise ValueError(f"{what} of {n_bytes} bytes at offset {start} runs past the end of the file "
                             f"({len(self.buf)} bytes)")
        self.pos += n_bytes
        return start

    def string(self) -> str | SkippedString:
        (length,) = self.unpack("<Q")
        start = self.skip(length, "a string")
        if length > KEEP_STRING:
            return SkippedString(length)
        return bytes(self.buf[start:self.pos]).decode("utf-8")

    def name(self, what: str, limit: int = KEEP_STRING) -> str:
        """A key or tensor name: a string of at most `limit` (<= KEEP_STRING) bytes."""
        start = self.pos
        text = self.string()
        if self.pos - start - 8 > limit:
            raise ValueError(f"{what} at offset {start} is longer than {limit} bytes")
        return text

    def value(self, vtype: int) -> Any:
        if vtype in SCALARS:
            return self.unpack(SCALARS[vtype])[0]
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            return self.array()
        raise ValueError(f"unknown GGUF value type {vtype}")

    def array(self) -> list | SkippedArray:
        etype, count = self.unpack("<IQ")
        if etype in SCALARS:
            fmt = SCALARS[etype]
            start = self.skip(struct.calcsize(fmt) * count, f"an array of {count} values")
            if count > KEEP_ARRAY:
                return SkippedArray(count)
            return list(struct.unpack_from(f"<{count}{fmt[1]}", self.buf, start))
        if etype != STRING:
            raise ValueError(f"an array of GGUF type {etype}: llama.cpp reads arrays of numbers, booleans "
                             "and strings only (no nested arrays)")
        self.array_strings_left -= count
        if self.array_strings_left < 0:
            raise ValueError(f"more than {MAX_ARRAY_STRINGS} strings in arrays")
        if count > KEEP_ARRAY:
            self.skip_strings(count)
            return SkippedArray(count)
        return [self.string() for _ in range(count)]

    def skip_strings(self, count: int) -> None:
        """The fast path over a vocabulary: lengths only, nothing decoded."""
        buf, pos, end = self.buf, self.pos, len(self.buf)
        length_at = struct.Struct("<Q").unpack_from
        for _ in range(count):
            pos += 8 + length_at(buf, pos)[0]
            if pos > end:
                raise ValueError(f"an array of {count} strings runs past the end of the file ({end} bytes)")
        self.pos = pos


def _parse(r: _Reader) -> GgufHeader:
    magic = bytes(r.buf[:4])
    if magic != MAGIC:
        raise ValueError(f"not a GGUF file (magic {magic!r}, expected b'GGUF')")
    _, version, n_tensors, n_kv = r.unpack("<4sIQQ")
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} is not supported (need 2 or 3)")
    if n_kv > MAX_KEYS or n_tensors > MAX_TENSORS:
        raise ValueError(f"the header claims {n_kv} metadata keys and {n_tensors} tensors "
                         f"(at most {MAX_KEYS} of each are read)")
    fields: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.name("a metadata key")
        (vtype,) = r.unpack("<I")
        fields[key] = r.value(vtype)
    infos, names = [], set()
    for _ in range(n_tensors):
        name = r.name("a tensor name", MAX_NAME)
        if name in names:
            raise ValueError(f"tensor {name!r} appears twice")
        names.add(name)
        (n_dims,) = r.unpack("<I")
        if n_dims > MAX_DIMS:
            raise ValueError(f"tensor {name}: {n_dims} dimensions (ggml allows at most {MAX_DIMS})")
        dims = r.unpack(f"<{n_dims}Q")
        ttype, offset = r.unpack("<IQ")
        infos.append((name, dims, ttype, offset))
    alignment = _alignment(fields)
    data_start = (r.pos + alignment - 1) // alignment * alignment
    tensors = tuple(_tensor(*info) for info in infos)
    for t in tensors:
        if t.offset % alignment:
            raise ValueError(f"tensor {t.name}: data offset {t.offset} is not a multiple of the alignment ({alignment})")
        if data_start + t.offset + t.n_bytes > len(r.buf):
            raise ValueError(f"tensor {t.name}: its data ends at byte {data_start + t.offset + t.n_bytes}, past the "
                             f"end of the file ({len(r.buf)} bytes): truncated?")
    return GgufHeader(version=version, fields=fields, tensors=tensors, data_start=data_start, file_size=len(r.buf))


def _alignment(fields: dict[str, Any]) -> int:
    alignment = fields.get("general.alignment", 32)
    if type(alignment) is not int or alignment <= 0 or alignment & (alignment - 1):
        raise ValueError(f"general.alignment = {alignment!r} is not a power of two")
    return alignment


def _tensor(name: str, dims: tuple[int, ...], ttype: int, offset: int) -> GgufTensor:
    try:
        qtype = GGMLQuantizationType(ttype)
    except ValueError:
        raise ValueError(f"tensor {name}: unknown ggml type {ttype}") from None
    block, size = GGML_QUANT_SIZES[qtype]
    elements = 1
    for d in dims:
        elements *= d
    if elements > INT64_MAX:
        raise ValueError(f"tensor {name}: shape {dims} has more than 2^63 elements")
    if elements % block:
        raise ValueError(f"tensor {name}: {elements} elements is not a multiple of the {qtype.name} block ({block})")
    return GgufTensor(name=name, type_name=qtype.name.lower(), shape=tuple(dims),
                      n_bytes=elements // block * size, offset=offset)
