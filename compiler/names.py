"""The grammars of the names llmc writes into generated files, in one place.

Each of these values ends up in a shell script, a manifest or a URL; a value outside its grammar is
rejected where it enters (spec, catalog record, runtime pin), so the targets only ever escape well-formed names.
"""

from __future__ import annotations

import ipaddress
import re

# POSIX: "names ... consist solely of underscores, digits, and alphabetics from the portable character
# set; the first character ... is not a digit" (XBD 8.1; the shell's `name`, XCU 2.2.2).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# RFC 1123 host name labels; the whole name at most 253 characters (RFC 1035 2.3.4).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
# A deployment name, which names Kubernetes objects as it is: a Service name is an RFC 1035 label
# (lower case letters, digits and `-`, starting with a letter, not ending with `-`, at most 63).
DNS_LABEL = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
# What clients send as "model": vLLM --served-model-name, llama-server -a, an Ollama model name
# (`[namespace/]model[:tag]`, types/model/name.go: letters, digits, `_ . -`, `:` before a tag).
SERVED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}")
# A Hugging Face repo id: `owner/name`, each part letters, digits, `-_.` (huggingface_hub validate_repo_id:
# at most 96 characters, no `--` or `..`, not starting or ending with `-` or `.`).
REPO_ID = re.compile(r"(?!.*(--|\.\.))[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?/[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?",
                     re.ASCII)
# A file inside a repo (a GGUF, or a shard's first file): `/`-separated names of letters, digits and
# `_ . + = @ , -`; no empty, `.` or `..` part, so it names a file below the repo and nothing else.
_PART = r"(?!\.{1,2}(?:/|$))[\w.+=@,-]{1,255}"
REPO_FILE = re.compile(rf"{_PART}(?:/{_PART})*", re.ASCII)
# A git revision: a branch, a tag or a commit sha (git check-ref-format, narrowed to what hubs use).
REVISION = re.compile(r"(?!.*\.\.)[\w][\w./-]{0,254}", re.ASCII)
# A container image repository (the OCI distribution spec's path grammar, lower case, with an optional
# registry host and port) and a tag; a runtime version; an HTTP path on the server.
IMAGE = re.compile(r"(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
URL_PATH = re.compile(r"/[\w./-]{0,255}", re.ASCII)
# A network interface (Linux IFNAMSIZ: at most 15 characters) and a Kubernetes extended resource name
# (`vendor.domain/name`, as device plugins register RDMA devices: rdma/hca, nvidia.com/hostdev).
INTERFACE = re.compile(r"[A-Za-z0-9_.:-]{1,15}", re.ASCII)
RESOURCE = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?", re.ASCII)
# Prefixes of real credentials (OpenAI/Anthropic sk-, Hugging Face hf_, GitHub, Slack, AWS, GitLab,
# Google API keys, JWTs): a value like these in `env(...)` is the secret itself, not a variable's name.
_SECRET = re.compile(r"(?:sk|pk|rk)[-_]\w|hf_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{16,}|github_pat_|xox[abpr]-"
                     r"|AKIA[0-9A-Z]{16}|glpat-|AIza[\w-]{30,}|eyJ[\w-]{8,}\.")


# A server bound to every address is reached on the loopback of its family.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def as_dns_label(text: str) -> str:
    """`text` made a deployment name (an RFC 1035 label): lower case, other characters as `-`, starting with a
    letter, at most 63 characters; "" when nothing of it is left."""
    fixed = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-").lstrip("0123456789-")[:63].rstrip("-")
    return fixed if DNS_LABEL.fullmatch(fixed) else ""


def split_image(ref: str) -> tuple[str, str | None]:
    """`ghcr.io/ggml-org/llama.cpp:server-cuda-b1` → ("ggml-org/llama.cpp", "server-cuda-b1"): the repository
    without its registry (a first part with a `.` or `:`, or `localhost`), and the tag (None: none, or a digest)."""
    name = ref.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    repo = name[: len(name) - len(tag) - 1] if tag is not None else name
    first, _, rest = repo.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        repo = rest
    return repo, tag


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (a host name other than localhost is not assumed to be loopback)."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_host_port(text: str) -> tuple[str, int | None]:
    """`0.0.0.0`, `0.0.0.0:11434`, `http://[::]:11434`, `::` (OLLAMA_HOST's forms) → (address, port)."""
    text = text.strip().split("://", 1)[-1].rstrip("/")
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
        return address, int(port) if port.isdigit() else None
    if text.count(":") == 1:
        address, _, port = text.partition(":")
        return address, int(port) if port.isdigit() else None
    return text, None


def bracketed(host: str) -> str:
    """A host as it goes before `:port`: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def client_url(host: str, port: int) -> str:
    """The URL a client on this machine uses to reach a server that binds host:port."""
    return f"http://{bracketed(_WILDCARDS.get(host, host))}:{port}"


def is_env_name(text: str) -> bool:
    return bool(ENV_NAME.fullmatch(text))


def is_host(text: str) -> bool:
    """An IPv4 or IPv6 address (no zone id: `%` would carry any text), or a host name."""
    try:
        ipaddress.ip_address(text)
        return "%" not in text
    except ValueError:
        return len(text) <= 253 and bool(HOSTNAME.fullmatch(text))


def is_served_name(text: str) -> bool:
    return bool(SERVED_NAME.fullmatch(text))


def is_repo_id(text: str) -> bool:
    return bool(REPO_ID.fullmatch(text))


def is_repo_file(text: str) -> bool:
    return len(text) <= 1024 and bool(REPO_FILE.fullmatch(text))


def is_revision(text: str) -> bool:
    return bool(REVISION.fullmatch(text))


def looks_like_secret(text: str) -> bool:
    """A credential pasted where a name belongs: a known key prefix, or 32+ characters of mixed-case
    letters and digits with no `_` between words, as random tokens are and variable names are not."""
    if _SECRET.match(text):
        return True
    random_like = (len(text) >= 32 and "_" not in text and re.search("[a-z]", text) and re.search("[A-Z]", text)
                   and re.search("[0-9]", text))
    return bool(random_like)
