"""A stand-in server for what the real llama-server cannot be made to do: never become healthy, drip tokens,
send broken streams, or print its API key.

Without --ready it answers /health with llama-server's own "Loading model" 503 for ever and logs a line
every second. With --ready it is healthy and speaks enough of llama-server's API for `llmc smoke`:
/tokenize (one token a word), streaming /v1/chat/completions (one token every --drip seconds, usage at
the end, then [DONE]; with --garbage KIND, one token and then the broken line KIND; the path
/garbage/KIND/v1/chat/completions does the same for one request) and /metrics.
--plan prints llama-server's buffer lines for the plan's predicted memory, so a run can pass.
--api-key-env NAME answers 401 unless the request carries the key from $NAME; --log-key prints it
(as SGLang prints its server_args). --stubborn-child forks a child in its process group that ignores
SIGTERM, so a test can check that teardown kills it and nothing else.
Run: python fake_server.py --port N [--host H] [--ready] [--drip S] [--garbage KIND] [--plan FILE] ...
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
MIB = 1024 * 1024


def _data(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode()


def _usage(prompt: object, completion: object) -> bytes:
    return _data({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})


GARBAGE = {
    "not-json": b"data: {this is not json",
    "array": b"data: [1, 2, 3]",
    "number": b"data: 42",
    "deep": b"data: " + b"[" * 100_000,
    "binary": b"data: \xff\xfe\x00\x9c",
    "huge-line": b"data: " + b"x" * (2 * MIB),
    "choices-string": _data({"choices": "abc"}),
    "choice-number": _data({"choices": [7]}),
    "delta-list": _data({"choices": [{"delta": [1]}]}),
    "usage-array": _data({"choices": [], "usage": [1]}),
    "usage-string": _usage(10, "abc"),
    "usage-null": _usage(None, 3),
    "usage-negative": _usage(10, -5),
    "usage-huge": b'data: {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 1e400}}',
}


TOKEN = _data({"choices": [{"index": 0, "delta": {"content": "tok"}}]})


class Handler(BaseHTTPRequestHandler):
    args: argparse.Namespace   # set on the class by main()

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if not self.args.ready:
            self.answer(503, LOADING)
        elif self.path == "/metrics":
            self.answer(200, None, b"# no metrics\n")
        else:
            self.answer(200, {"status": "ok"})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if not self.authorized():
            self.answer(401, {"error": {"code": 401, "message": "Invalid API Key"}})
        elif self.path == "/tokenize":
            self.answer(200, {"count": len(body.get("content", "").split())})
        elif self.path.startswith("/garbage/"):
            self.stream(body, self.path.split("/")[2])
        else:
            self.stream(body, self.args.garbage)

    def authorized(self) -> bool:
        name = self.args.api_key_env
        return not name or self.headers.get("Authorization") == f"Bearer {os.environ[name]}"

    def answer(self, status: int, obj: object, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, body: dict, garbage: str | None) -> None:
        """An HTTP/1.0 event stream (the connection's end ends it): tokens, usage, [DONE]."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        prompt = len(body["messages"][0]["content"].split()) + 5   # 5: the chat template's tokens
        lines = [TOKEN] * body["max_tokens"]
        if garbage:
            lines.insert(1, GARBAGE[garbage])
        for line in [*lines, _usage(prompt, body["max_tokens"]), b"data: [DONE]"]:
            self.wfile.write(line + b"\n\n")
            self.wfile.flush()
            if line == TOKEN:
                time.sleep(self.args.drip)

    def log_message(self, fmt, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), Handler)

    def handle_error(self, request, client_address):
        pass   # a client that hangs up mid-stream (smoke cutting a request) is expected here


def stubborn_child() -> int:
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(1)
    return pid


def buffer_lines(plan_path: Path) -> list[str]:
    """llama-server's buffer lines for the plan's predicted host memory (as -lv 4 prints them)."""
    device = json.loads(plan_path.read_text())["memory"]["devices"][0]
    return [f"load_tensors:   CPU_Mapped model buffer size = {device['weights_bytes'] / MIB:.2f} MiB",
            f"llama_kv_cache:        CPU KV buffer size = {device['kv_cache_bytes'] / MIB:.2f} MiB",
            f"llama_context:        CPU compute buffer size = {device['compute_bytes'] / MIB:.2f} MiB"]


def launcher_script(*args: str, prelude: str = "") -> str:
    """A launch script that runs `prelude` (shell lines) and then execs this server with `args`."""
    python, me = os.path.realpath(sys.executable), Path(__file__).resolve()
    return f"#!/usr/bin/env bash\nset -euo pipefail\n{prelude}exec {python} {me} {' '.join(args)}\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ready", action="store_true")
    parser.add_argument("--drip", type=float, default=0.0)
    parser.add_argument("--garbage", choices=sorted(GARBAGE))
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--api-key-env")
    parser.add_argument("--log-key", action="store_true")
    parser.add_argument("--stubborn-child", action="store_true")
    args, _ = parser.parse_known_args()
    Handler.args = args
    server = Server(args.host, args.port)
    if args.stubborn_child:
        print(f"fake-server: child pid {stubborn_child()}", flush=True)
    for line in buffer_lines(args.plan) if args.plan else ():
        print(line, flush=True)
    if args.log_key:
        print(f"server_args=ServerArgs(api_key={os.environ[args.api_key_env]!r})", flush=True)
    print(f"fake-server: pid {os.getpid()} listening on {args.host}:{args.port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    n = 0
    while True:
        n += 1
        print(f"fake-server: {'serving' if args.ready else 'loading model tensors'} ({n}s)", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
