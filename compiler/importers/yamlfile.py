"""YAML configs with positions: compose files, Kubernetes manifests and vLLM `--config` files.

ruamel.yaml's round-trip loader keeps each key's and value's line and column; a command written as one
string is split into shell words and each word is found again in the file, so a finding points at the flag.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from ..diagnostics import Diagnostic, define_code, error
from ..runtimes import PROFILES
from ..runtimes.flags import flag_table
from ..source import SourceFile, Span
from ..units import parse_size
from .command import image_defaults, image_tag, recognise, runtime_of_image, server_from_args
from .config import ConfigFile, Container, Mount, Port, Server, Service, Value
from .script import parse_port
from .shell import Word, commands, resolve, split_words, unwrap

E_YAML = define_code("E842", "YAML that does not parse", __name__)
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915", "gpu.intel.com/xe")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "ReplicaSet", "LeaderWorkerSet")


class Positions:
    """Spans of YAML nodes in one source file."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        starts = [0]
        for i, ch in enumerate(source.text):
            if ch == "\n":
                starts.append(i + 1)
        self._starts = starts

    def offset(self, line0: int, col0: int) -> int:
        return self._starts[min(line0, len(self._starts) - 1)] + col0

    def span(self, line0: int, col0: int, length: int) -> Span:
        end = self.source.span_at(self.offset(line0, col0) + max(length, 1) - 1)
        return Span(file=self.source.path, line=line0 + 1, col=col0 + 1, end_line=end.line, end_col=end.col + 1)

    def key(self, node: CommentedMap, key: str) -> Span:
        line, col = where(node, key, "key")
        return self.span(line, col, len(str(key)))

    def value(self, node: CommentedMap, key: str) -> Span:
        line, col = where(node, key, "value")
        return self.span(line, col, len(str(node[key])) if not isinstance(node[key], (dict, list)) else 1)

    def item(self, node: CommentedSeq, index: int) -> Span:
        line, col = where(node, index, "item")
        value = node[index]
        return self.span(line, col, len(str(value)) if not isinstance(value, (dict, list)) else 1)

    def words(self, node, key_or_index) -> list[Word]:
        """Shell words of a string value, each at the offset where it is written (found again in the file)."""
        line, col = where(node, key_or_index, "value" if isinstance(node, CommentedMap) else "item")
        text = str(node[key_or_index])
        return _locate(self, text, split_words(text), self.offset(line, col))

    def word(self, node, key_or_index) -> Word:
        line, col = where(node, key_or_index, "value" if isinstance(node, CommentedMap) else "item")
        text = str(node[key_or_index])
        start = self.offset(line, col)
        quoted = self.source.text[start:start + 1] in ("'", '"')
        return Word(text, start + quoted, start + quoted + len(text), "$" in text)


def _seq(node, key: str) -> CommentedSeq | tuple:
    """The list under `key`, or () when it is missing or not a list (`ports: "8000:8000"`)."""
    value = node.get(key) if isinstance(node, CommentedMap) else None
    return value if isinstance(value, CommentedSeq) else ()


def _map(node, key: str) -> CommentedMap:
    value = node.get(key) if isinstance(node, CommentedMap) else None
    return value if isinstance(value, CommentedMap) else CommentedMap()


def _int(value) -> int | None:
    """A count as YAML holds it; None for a template placeholder (`"${TP_SIZE}"`) or anything else."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def where(node, key, part: str) -> tuple[int, int]:
    """(line, column), 0-based, of a key, a value or a list item; a key merged in from an anchor (`<<: *base`)
    has no position of its own here, so it is the mapping's."""
    try:
        return getattr(node.lc, part)(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return node.lc.line, node.lc.col


def load_documents(source: SourceFile) -> tuple[list, Diagnostic | None]:
    """The file's YAML documents, or the parser's own error at its line (a tab, a duplicate key ...)."""
    yaml = YAML(typ="rt")
    try:
        return [d for d in yaml.load_all(source.text) if d is not None], None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = source.span_at(mark.index) if mark is not None else source.span_at(0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], error(E_YAML, f"`{source.path}` is not valid YAML: {problem}", span=span,
                         label="here", help="fix the YAML (a tab for indentation, a key set twice, an unclosed quote)")


def read_yaml(source: SourceFile, documents: list) -> ConfigFile | None:
    """None when the YAML is none of the kinds llmc reads."""
    pos = Positions(source)
    first = documents[0] if documents else None
    if isinstance(first, CommentedMap) and isinstance(first.get("services"), CommentedMap):
        return _compose(source, pos, first)
    if any(isinstance(d, CommentedMap) and "apiVersion" in d and "kind" in d for d in documents):
        return _kubernetes(source, pos, documents)
    if isinstance(first, CommentedMap) and len(documents) == 1:
        return _config_yaml(source, pos, first)
    return None


# ---------------------------------------------------------------------------
# shared: a container's command line and environment
# ---------------------------------------------------------------------------

def _argv(pos: Positions, node, key: str) -> list[Word]:
    value = node.get(key) if isinstance(node, CommentedMap) else None
    if value is None:
        return []
    if isinstance(value, CommentedSeq):
        return [pos.word(value, i) for i in range(len(value)) if not isinstance(value[i], (dict, list))]
    return pos.words(node, key)


SHELLS = ("sh", "bash", "dash", "ash")


def _shell_script(pos: Positions, words: list[Word]) -> tuple[list[Word], dict[str, Word]] | None:
    """`sh -c SCRIPT [$0 ARGS...]`: the script's command that starts a server, with `"$@"` standing for ARGS
    and the script's own variables; None when the words are not a shell running a script."""
    if len(words) < 3 or words[0].text.rsplit("/", 1)[-1] not in SHELLS or not words[1].text.startswith("-") \
            or "c" not in words[1].text:
        return None
    script, extra = words[2], words[4:]
    text = script.text.replace("$$", "$")    # compose's escape for a literal $
    for command in commands(text):
        found = _locate(pos, text, [resolve(w, command.variables) for w in command.words], script.start)
        inner = _shell_script(pos, found)     # `bash -c 'sh -c "vllm serve ..."'`
        if inner is not None and inner[0]:
            return inner
        if recognise(found) is None:
            continue
        expanded = [w for word in found for w in (extra if word.text in ("$@", "${@}") else [word])]
        return expanded, command.env
    return [], {}


def _locate(pos: Positions, text: str, words: list[Word], start: int) -> list[Word]:
    """Words of a script found again in the file, from the script's start (a YAML block is dedented)."""
    out, cursor = [], start
    for word in words:
        raw = text[word.start:word.end]
        found = pos.source.text.find(raw, cursor)
        found = found if found >= 0 else cursor
        out.append(Word(word.text, found, found + len(raw), word.symbolic))
        cursor = found + len(raw)
    return out


def _server(pos: Positions, image: Value | None, program: list[Word] | None, args: list[Word],
            env: dict[str, Word], span: Span) -> Server | None:
    """The server a container starts: `program` replaces the image's entrypoint (compose `entrypoint`,
    Kubernetes `command`) and must start one; else `args` go to the image's own entrypoint, unless they name
    a runtime's command themselves (`python3 -m sglang.launch_server` in an image without one)."""
    span_of = _span_of(pos)
    env = dict(env)
    argv = (program or []) + args
    script = _shell_script(pos, argv)
    if script is not None:
        argv, more = script
        env.update(more)
    argv = unwrap(argv)
    found = recognise(argv)
    if found is None and (program or script is not None):
        return None
    runtime = found[0] if found else (runtime_of_image(image.text) if image and image.text else None)
    if runtime is None:
        return None
    at = argv[0] if argv else Word("", 0, 0)
    server = server_from_args(runtime, argv[found[1]:] if found else argv, image_defaults(runtime, env, at), span,
                              span_of)
    tag = image_tag(image.text) if image and image.text else None
    server.version = Value(tag, image.span, "image") if tag and image else None
    return server


def _span_of(pos: Positions):
    def span(word: Word) -> Span:
        return pos.span(*_line_col(pos, word.start), word.end - word.start)
    return span


def _line_col(pos: Positions, offset: int) -> tuple[int, int]:
    s = pos.source.span_at(offset)
    return s.line - 1, s.col - 1


def _env_words(pos: Positions, env) -> dict[str, Word]:
    """compose `environment:` (a list of NAME=value or a map) or a Kubernetes `env:` list."""
    out: dict[str, Word] = {}
    if isinstance(env, CommentedMap):
        for name in env:
            line, col = where(env, name, "key")
            value = f"${{{name}}}" if env[name] is None else str(env[name])   # `NAME:` passes the host's value
            start = pos.offset(line, col)
            out[str(name)] = Word(f"{name}={value}", start, start + len(str(name)), "$" in value)
    elif isinstance(env, CommentedSeq):
        for i, item in enumerate(env):
            if isinstance(item, CommentedMap) and "name" in item:
                line, col = where(item, "name", "value")
                start = pos.offset(line, col)
                value = item.get("value")
                symbolic = value is None or "$" in str(value)
                text = "" if value is None else str(value)
                out[str(item["name"])] = Word(f"{item['name']}={text}", start, start + len(str(item["name"])),
                                              symbolic)
            elif isinstance(item, str):
                word = pos.word(env, i)
                if "=" not in item:   # `- NAME` passes the host's value
                    word = Word(f"{item}=${{{item}}}", word.start, word.end, True)
                out[item.partition("=")[0]] = word
    return out


# ---------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------

def _compose(source: SourceFile, pos: Positions, doc: CommentedMap) -> ConfigFile:
    config = ConfigFile(source=source, kind="compose")
    services = doc["services"]
    for name in services:
        svc = services[name]
        if not isinstance(svc, CommentedMap):
            continue
        image = Value(str(svc["image"]), pos.value(svc, "image"), "image") if "image" in svc else None
        program = _argv(pos, svc, "entrypoint") if "entrypoint" in svc else None
        env = _env_words(pos, svc.get("environment"))
        server = _server(pos, image, program, _argv(pos, svc, "command"), env, pos.key(services, name))
        if server is None:
            continue
        server.container = _compose_container(pos, services, str(name), svc, image)
        config.servers.append(server)
    return config


def _compose_container(pos: Positions, services: CommentedMap, name: str, svc: CommentedMap,
                       image: Value | None) -> Container:
    c = Container(name=name, span=pos.key(services, name), image=image)
    for device in _gpu_devices(svc):
        c.gpu_span = pos.key(device, "count") if "count" in device else pos.key(device, "device_ids") \
            if "device_ids" in device else pos.key(device, next(iter(device)))
        count = device.get("count")
        ids = device.get("device_ids")
        if str(count).lower() == "all":
            c.gpus_all = True
        elif isinstance(count, int):
            c.gpus = (c.gpus or 0) + count
        elif ids:
            c.device_ids = tuple(str(i) for i in ids)
            c.gpus = (c.gpus or 0) + len(ids)
        elif count is None:
            c.gpus_all = True   # compose: a device reservation without count or ids takes them all
    if "gpus" in svc:
        c.gpu_span = pos.key(svc, "gpus")
        c.gpus_all = str(svc["gpus"]) == "all"
    if str(svc.get("runtime", "")) == "nvidia":
        c.gpu_span, c.gpus_all = pos.key(svc, "runtime"), True
    c.host_network = pos.key(svc, "network_mode") if str(svc.get("network_mode", "")) == "host" else None
    c.shared_memory = str(svc.get("ipc", "")) == "host" or (parse_size(str(svc.get("shm_size", "0"))) or 0) >= 1 << 30
    for i, volume in enumerate(_seq(svc, "volumes")):
        if isinstance(volume, CommentedMap):
            target, source = volume.get("target"), volume.get("source") if volume.get("type") == "bind" else None
        else:
            parts = str(volume).split(":")
            target, source = (parts[1], parts[0]) if len(parts) > 1 else (parts[0], None)
        if target:
            host = str(source) if source and str(source).startswith(("/", ".", "~")) else None
            c.mounts.append(Mount(str(target), pos.item(svc["volumes"], i), host))
    for i, port in enumerate(_seq(svc, "ports")):
        if isinstance(port, CommentedMap):
            published = port.get("published")
            parsed = Port(port.get("host_ip"), _int(str(published).split("-")[0]) if published else None,
                          _int(port.get("target")) or 0, pos.item(svc["ports"], i))
        else:
            parsed = parse_port(str(port), pos.item(svc["ports"], i))
        if parsed:
            c.ports.append(parsed)
    return c


def _gpu_devices(svc: CommentedMap) -> Iterator[CommentedMap]:
    deploy = svc.get("deploy")
    resources = deploy.get("resources") if isinstance(deploy, CommentedMap) else None
    reservations = resources.get("reservations") if isinstance(resources, CommentedMap) else None
    devices = reservations.get("devices") if isinstance(reservations, CommentedMap) else None
    for device in devices or ():
        if isinstance(device, CommentedMap) and ("gpu" in (device.get("capabilities") or ())
                                                 or device.get("driver") in ("nvidia", "amd")):
            yield device


# ---------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------

def _kubernetes(source: SourceFile, pos: Positions, documents: list) -> ConfigFile:
    config = ConfigFile(source=source, kind="kubernetes")
    for doc in documents:
        if not isinstance(doc, CommentedMap):
            continue
        kind = str(doc.get("kind", ""))
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), CommentedMap) else CommentedMap()
        spec = doc.get("spec") if isinstance(doc.get("spec"), CommentedMap) else CommentedMap()
        if kind == "Service" and "name" in meta:
            selector = spec.get("selector") if isinstance(spec.get("selector"), CommentedMap) else {}
            kind_span = pos.value(spec, "type") if "type" in spec else pos.value(meta, "name")
            config.services.append(Service(str(meta["name"]), pos.value(meta, "name"), str(spec.get("type", "ClusterIP")),
                                           {str(k): str(v) for k, v in selector.items()}, kind_span))
        if kind in WORKLOADS:
            group = _int((spec.get("leaderWorkerTemplate") or {}).get("size")) if kind == "LeaderWorkerSet" else None
            for pod, labels in _pod_specs(doc, kind):
                for server in _pod_servers(pos, pod, group or 1):
                    server.container.labels = labels
                    config.servers.append(server)
    return config


def _pod_specs(doc: CommentedMap, kind: str) -> Iterator[tuple[CommentedMap, dict[str, str]]]:
    """Each pod spec of a workload, with its pod labels (what a Service selects)."""
    spec = doc.get("spec")
    if not isinstance(spec, CommentedMap):
        return
    if kind == "Pod":
        yield spec, _labels(doc)
        return
    templates = [spec.get("template")]
    if kind == "LeaderWorkerSet":
        lwt = _map(spec, "leaderWorkerTemplate")
        templates = [lwt.get("leaderTemplate"), lwt.get("workerTemplate")]
    for template in templates:
        if isinstance(template, CommentedMap) and isinstance(template.get("spec"), CommentedMap):
            yield template["spec"], _labels(template)


def _labels(node: CommentedMap) -> dict[str, str]:
    meta = node.get("metadata")
    labels = meta.get("labels") if isinstance(meta, CommentedMap) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, CommentedMap) else {}


def _pod_servers(pos: Positions, pod: CommentedMap, group: int) -> Iterator[Server]:
    shm_volumes = {str(v.get("name")) for v in _seq(pod, "volumes") if isinstance(v, CommentedMap)
                   and isinstance(v.get("emptyDir"), CommentedMap) and v["emptyDir"].get("medium") == "Memory"}
    containers = _seq(pod, "containers")
    for i, ctr in enumerate(containers):
        if not isinstance(ctr, CommentedMap):
            continue
        image = Value(str(ctr["image"]), pos.value(ctr, "image"), "image") if "image" in ctr else None
        program = _argv(pos, ctr, "command") if "command" in ctr else None
        name_span = pos.value(ctr, "name") if "name" in ctr else pos.item(containers, i)
        server = _server(pos, image, program, _argv(pos, ctr, "args"), _env_words(pos, ctr.get("env")), name_span)
        if server is None:
            continue
        c = Container(name=str(ctr.get("name", "")), span=name_span, image=image, group=group,
                      host_network=pos.key(pod, "hostNetwork") if pod.get("hostNetwork") is True else None)
        resources = ctr.get("resources") if isinstance(ctr.get("resources"), CommentedMap) else CommentedMap()
        for section in ("limits", "requests"):
            block = resources.get(section)
            if isinstance(block, CommentedMap):
                for resource in GPU_RESOURCES:
                    if resource in block and c.gpus is None:
                        c.gpus, c.gpu_span = _int(block[resource]), pos.key(block, resource)
                        c.gpus_all = c.gpus is None   # a template's "${GPUS}": reserved, how many unknown
                        c.exclusive_gpus = True       # the device plugin gives each pod its own
        for mount in _seq(ctr, "volumeMounts"):
            if isinstance(mount, CommentedMap) and "mountPath" in mount:
                c.mounts.append(Mount(str(mount["mountPath"]), pos.value(mount, "mountPath")))
                if str(mount.get("name")) in shm_volumes and str(mount["mountPath"]) == "/dev/shm":
                    c.shared_memory = True
        c.shared_memory |= bool(pod.get("hostIPC"))
        c.liveness = pos.key(ctr, "livenessProbe") if "livenessProbe" in ctr else None
        c.startup = pos.key(ctr, "startupProbe") if "startupProbe" in ctr else None
        c.service_links = pod.get("enableServiceLinks", True) is not False
        server.container = c
        yield server


# ---------------------------------------------------------------------------
# vLLM --config YAML
# ---------------------------------------------------------------------------

def _config_yaml(source: SourceFile, pos: Positions, doc: CommentedMap) -> ConfigFile | None:
    """A runtime's `--config` file (long option names without `--`), read for the runtime whose flag table
    knows most of its keys: `true` is the bare flag, a list its items, a mapping its JSON; `false` as the
    runtime reads it (Runtime.config_drops_false)."""
    keys = [str(k) for k in doc]
    scored = [(sum(bool(table.lookup("--" + k, underscores=True)) for k in keys), r.name, r)
              for r in PROFILES.values() if r.config_yaml and (table := flag_table(r))]
    hits, _, runtime = max(scored, default=(0, "", None))
    if runtime is None or not hits:
        return None
    table = flag_table(runtime)
    words: list[Word] = []
    dropped: list[Value] = []
    for key in doc:
        value = doc[key]
        line, col = where(doc, key, "key")
        start = pos.offset(line, col)
        flag = Word("--" + str(key).replace("_", "-"), start, start + len(str(key)))
        if value is False:
            if table.get(f"--no-{key}") is not None:
                words.append(Word(f"--no-{key}", start, start + len(str(key))))
            elif runtime.config_drops_false:
                dropped.append(Value("false", pos.key(doc, key), str(key)))
            continue
        if isinstance(value, CommentedSeq):
            if value:
                words += [flag] + [pos.word(value, i) for i in range(len(value)) if not isinstance(value[i], (dict, list))]
            continue
        words.append(flag)
        if isinstance(value, CommentedMap):
            words.append(Word(json.dumps(_plain(value)), *_value_offsets(pos, doc, key)))
        elif value is not True:
            words.append(pos.word(doc, key))
    config = ConfigFile(source=source, kind="config-yaml")
    server = server_from_args(runtime, words, {}, pos.span(0, 0, 1), _span_of(pos))
    server.dropped = dropped
    config.servers.append(server)
    return config


def _plain(node):
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def _value_offsets(pos: Positions, node: CommentedMap, key) -> tuple[int, int]:
    line, col = where(node, key, "value")
    start = pos.offset(line, col)
    return start, start + 1


__all__ = ["load_documents", "read_yaml"]
