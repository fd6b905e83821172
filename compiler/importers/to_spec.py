"""One server of a hand-written config → a `.llmspec` with every choice it makes pinned.

Each line says where its value came from (`run.sh:5 --tensor-parallel-size`) or that it is the runtime's
default; what the config cannot say (the GPU type) comes from `--hardware` or stays a TODO the spec's own
diagnostics then report. The text goes through `llmc fmt`, so it is canonical.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field

from ..catalog import Catalog
from ..diagnostics import Diagnostic, define_code, warning
from ..format import format_source
from ..names import as_dns_label, is_host, is_served_name, split_host_port
from ..runtimes import by_memory
from ..source import SourceFile, Span
from .config import ConfigFile, Server, Value
from .hardware import HardwareArg
from .models import Identified, identify

W_NO_GPU = define_code("W841", "Imported spec without the GPU type", __name__)


@dataclass
class Lines:
    """Spec statements with their provenance comments, by block."""

    top: list[tuple[str, str]] = field(default_factory=list)
    blocks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, statement: str, why: str, block: str = "") -> None:
        (self.blocks.setdefault(block, []) if block else self.top).append((statement, why))


def import_specs(configs: list[ConfigFile], catalog: Catalog, hardware: HardwareArg | None = None
                 ) -> tuple[str, list[Diagnostic]]:
    """A deployment per server the files start (llmc.importers.merge_servers joined first), with unique names,
    and what the spec could not be told."""
    texts, notes, names = [], [], set()
    for server in (s for c in configs for s in c.servers):
        count, span = server.visible_gpus()
        name = unique = _name(server, None)
        n = 1
        while unique in names:
            n += 1
            unique = f"{name}-{n}"
        names.add(unique)
        texts.append(import_spec(server, catalog, hardware, unique, count))
        if not hardware:
            notes.append(warning(W_NO_GPU, f"the spec for {unique} names no GPU type: `gpu` is a TODO", span=server.span,
                                 label=f"{count} GPU{'s' * (count != 1)} here" if count else "which GPUs?",
                                 help="pass --hardware '2 x \"RTX 4090\"' (`llmc gpus` lists the names), or edit "
                                      "the spec's `hardware` block"))
    return "\n".join(texts), notes


def import_spec(server: Server, catalog: Catalog, hardware: HardwareArg | None = None, name: str | None = None,
                gpus: int | None = None) -> str:
    """The spec text (canonical form) for one server; `gpus` is how many GPUs the config gives it."""
    lines = Lines()
    rt = server.runtime
    lines.add(f"runtime = {rt.name}", _where(server.span, f"`{_command(server)}`"))
    found = _model(server, catalog, lines)
    card = hardware.gpus[0] if hardware and hardware.gpus else None
    _context(server, found, lines, (gpus or len(hardware.gpus)) * card.visible_memory_bytes / 2**30 if card else None)
    _kv(server, catalog, lines)
    _serve(server, lines)
    _settings(server, lines, card.visible_memory_bytes / 2**30 if card else None, card.name if card else "")
    _workload(server, found, lines)
    _hardware(lines, hardware, gpus)
    title = _name(server, name)
    text = _render(title, lines, server)
    formatted, _ = format_source(SourceFile(path="import.llmspec", text=text))
    return formatted or text


def _workload(server: Server, found: Identified | None, lines: Lines) -> None:
    tools = server.value("auto_tool_choice") or (server.runtime.knob("auto_tool_choice") is None
                                                 and server.value("tool_call_parser"))
    if tools:
        lines.add("task = agent", _from(tools) + ": clients call tools", "workload")
    thinking = _thinking(server, found)
    if thinking is not None:
        lines.add(f"thinking = {thinking[0]}", thinking[1], "workload")
    slots = server.integer("slots")
    replicas = server.integer("replicas") or 1
    if slots:
        lines.add(f"concurrency = {slots * replicas}", "assumed: as many users as the server runs at once",
                  "workload")
    else:
        lines.add("concurrency = 1", "assumed: the config does not say how many users; write yours", "workload")


def _thinking(server: Server, found: Identified | None) -> tuple[str, str] | None:
    """Whether the model thinks as configured: the chat-template switch the server sets by default, else the
    model's own default (what the runtime does when the config says nothing)."""
    thinking = found.model.thinking if found else None
    if thinking is None:
        return None
    value = server.value("chat_template_kwargs")
    try:
        kwargs = json.loads(value.text) if value is not None and value.text and not value.symbolic else {}
    except ValueError:
        kwargs = {}
    if thinking.switch and isinstance(kwargs, dict) and thinking.switch in kwargs:
        return ("on" if kwargs[thinking.switch] else "off"), f"{_from(value)} {thinking.switch}"
    return ("off" if thinking.default == "off" else "on"), "not set: the model's own default"


def _where(span: Span, what: str) -> str:
    return f"{os.path.basename(span.file)}:{span.line} {what}"


def _from(value: Value) -> str:
    return _where(value.span, value.written)


def _command(server: Server) -> str:
    return " ".join(server.runtime.commands[0]) if server.runtime.commands else server.runtime.name


def _model(server: Server, catalog: Catalog, lines: Lines) -> Identified | None:
    value = server.model
    if value is None or not value.text:
        lines.add("# TODO: the config names no model; pin one: model = \"org/name\"", "")
        return None
    # a path under the host's directory ($HOME/.cache/...) still names its file
    found = identify(catalog, value.text) if "$" not in value.text.rsplit("/", 1)[-1] else None
    if value.symbolic and found is None:
        lines.add(f"# TODO: the model is {value.text}, set when the script runs; pin it: model = \"org/name\"", "")
        return None
    if found is None and _is_path(value.text):
        path, how = _host_path(server, value.text)
        lines.add(f'model = local("{path}")', f"{_from(value)}{how}; read from the file when built")
        return None
    if found is None:
        lines.add(f'model = "{value.text}"', f"{_from(value)}; not in the catalog (`llmc models`)")
        return None
    lines.add(f'model = "{found.model.id}"', f"{_from(value)}: {found.how}")
    lines.add(f"quantization = {found.format}", "the checkpoint's weight format")
    return found


def _host_path(server: Server, path: str) -> tuple[str, str]:
    """A container's model path as the host sees it, through a bind mount; the path normalized."""
    c = server.container
    for mount in c.mounts if c is not None else ():
        host = mount.host_path(path)
        if host is not None:
            return posixpath.normpath(host), f", bind-mounted from {mount.host}"
    return posixpath.normpath(path), ""


def _is_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or text.lower().endswith(".gguf")


def _context(server: Server, found: Identified | None, lines: Lines, gib: float | None) -> None:
    """The context per request: as set (llama.cpp's -c shared by its slots), else the runtime's default: a
    tier by the GPUs' memory (Ollama), or the model's window."""
    rt = server.runtime
    value = server.value("context")
    written = value.integer() if value else None
    slots = server.integer("slots")
    if written:
        if rt.slots_split_context and slots and slots > 1:
            shared = "; one pool (-kvu): a request may use more" if server.flag("kv_unified") else ""
            lines.add(f"context = {written // slots}", f"{_from(value)} {written} over {slots} slots{shared}")
        else:
            lines.add(f"context = {written}", _from(value))
        return
    if rt.default_context:
        tokens = by_memory(rt.default_context, gib) if gib is not None else rt.default_context[-1][1]
        lines.add(f"context = {tokens}", "not set: the runtime's default" + ("" if gib is not None else
                                                                              " on the smallest GPUs"))
    elif found is not None:
        lines.add(f"context = {found.model.max_context}", "not set: the runtime takes the model's window")


def _kv(server: Server, catalog: Catalog, lines: Lines) -> None:
    value = server.value("kv_cache")
    rt = server.runtime
    word = value.text if value and value.text else None
    for kv in sorted(catalog.kv_types.values(), key=lambda k: k.id):
        spelling = kv.runtimes.get(rt.name)
        if spelling is None:
            continue
        if word is None and spelling in ("auto", "f16"):
            lines.add(f"kv_cache = {kv.id}", "not set: the runtime's default")
            return
        if word is not None and word.lower() in (spelling.lower(), kv.id):
            lines.add(f"kv_cache = {kv.id}", _from(value))
            return
    if word is not None:
        lines.add(f"# TODO: KV cache type {word} has no llmc name; pin one of `llmc formats`", "")


def _serve(server: Server, lines: Lines) -> None:
    for statement, why in _address(server):
        lines.add(statement, why, "serve")
    key = server.value("api_key")
    if key is not None:
        knob = server.runtime.knob("api_key")
        variable = key.text.strip("${}") if key.symbolic and key.text else (knob.env if knob else None)
        if variable and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
            lines.add(f'api_key = env("{variable}")', _from(key) + ("" if key.symbolic else
                                                                    ": the key itself stays out of the spec"), "serve")
    name = server.value("served_name")
    if name is not None and name.text and is_served_name(name.text.split()[0]):
        lines.add(f'name = "{name.text.split()[0]}"', _from(name), "serve")


def _address(server: Server) -> list[tuple[str, str]]:
    """The bind address and port clients reach: a container's published port, else the server's own."""
    c = server.container
    if c is not None and c.host_network is None:   # on the host's network its own address is the host's
        published = next((p for p in c.ports if p.host_port is not None), None)
        if published is None:
            return []
        host = published.host_ip or "0.0.0.0"
        why = _where(published.span, "published")
        return [(f'host = "{host}"', why), (f"port = {published.host_port}", why)] if is_host(host) else []
    out = []
    host, port = server.value("host"), server.value("port")
    if host is not None and host.text and not host.symbolic:
        address, bound = split_host_port(host.text)
        if is_host(address):
            out.append((f'host = "{address}"', _from(host)))
        if bound is not None:
            out.append((f"port = {bound}", _from(host)))
    elif host is None and server.runtime.listens_on_all:
        out.append(('host = "0.0.0.0"', f"not set: {server.runtime.name} binds every interface"))
    if port is not None and port.integer():
        out.append((f"port = {port.integer()}", _from(port)))
    return out


def _settings(server: Server, lines: Lines, gib: float | None = None, gpu_name: str = "") -> None:
    rt = server.runtime
    for knob in rt.knobs:
        if not knob.pin:
            continue
        value = server.value(knob.setting)
        text = _setting_text(knob, value) if value is not None else None
        if text is not None:
            lines.add(f"{knob.name} = {text}", _from(value), "settings")
    image = server.container.image if server.container is not None else None
    backend = rt.pin.backend_of(image.text) if image is not None and image.text else None
    if backend is not None:
        lines.add(f"backend = {backend}", _where(image.span, "the image"), "settings")
    if rt.knob("tensor") is not None and server.value("tensor") is None:
        lines.add(f"{rt.knob('tensor').name} = 1", "not set: the runtime's default", "settings")
    if gib is not None and rt.max_seqs and server.value("slots") is None and rt.knob("slots"):
        seqs = rt.budgets(gib, gpu_name)[1]
        lines.add(f"{rt.knob('slots').name} = {seqs}", f"not set: {rt.name}'s default on this card", "settings")


def _setting_text(knob, value: Value) -> str | None:
    if value.symbolic:
        return None
    if knob.kind == "bool":
        return "true" if value.flag_on() else "false"   # the runtime's own name: --disable-x is `disable_x = true`
    if value.text is None:
        return None
    if knob.kind in ("int", "tokens"):
        n = value.integer()
        return str(n) if n is not None and n >= 0 else None
    if knob.kind == "fraction":
        n = value.number()
        return f"{n:g}" if n is not None else None
    if knob.kind == "duration":
        from ..units import parse_go_duration

        seconds = parse_go_duration(value.text)
        return None if seconds is None else ("forever" if seconds < 0 else f"{seconds:g}s")
    if knob.kind == "text":
        return '"' + value.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value.text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", value.text) else None


def _hardware(lines: Lines, hardware: HardwareArg | None, gpus: int | None) -> None:
    if hardware:
        for statement in hardware.block(gpus):
            lines.add(statement, "--hardware" + (f", {gpus} GPUs from the config" if gpus and gpus != len(hardware.gpus)
                                                  and statement.startswith("gpu") else ""), "hardware")
    elif gpus:
        lines.add(f'gpu = {gpus} x "TODO"', "the config gives it this many GPUs; name the card "
                  "(`llmc gpus`) or pass --hardware", "hardware")
    else:
        lines.add('gpu = 1 x "TODO"', "the config does not say: name the GPUs (`llmc gpus`) or pass --hardware",
                  "hardware")


def _name(server: Server, name: str | None) -> str:
    candidates = [name, server.container.name if server.container else None,
                  (server.value("served_name").text or "").split(" ")[0] if server.value("served_name") else None,
                  os.path.splitext(os.path.basename(server.span.file))[0]]
    return next(filter(None, map(as_dns_label, filter(None, candidates))), "imported")


BLOCK_ORDER = ("workload", "serve", "settings", "hardware")


def _render(title: str, lines: Lines, server: Server) -> str:
    out = [f"# Imported by `llmc import` from {os.path.basename(server.span.file)}:{server.span.line}.",
           f'deployment "{title}" {{']
    out += [_line(s, why, "  ") for s, why in lines.top]
    for block in BLOCK_ORDER:
        if lines.blocks.get(block):
            out.append(f"  {block} {{")
            out += [_line(s, why, "    ") for s, why in lines.blocks[block]]
            out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def _line(statement: str, why: str, indent: str) -> str:
    return f"{indent}{statement}" + (f"  # {why}" if why and not statement.startswith("#") else "")


__all__ = ["import_spec", "import_specs"]
