"""A stand-in server for the one failure the real llama-server cannot be made to show: never becoming healthy.

It listens on --port, answers /health with llama-server's own "Loading model" 503 forever, logs a
line every second, and (with --stubborn-child) forks a child in its process group that ignores
SIGTERM, so a test can check that teardown kills the whole group and nothing else.
Run: python fake_server.py --port N [--stubborn-child]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps(LOADING).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def stubborn_child() -> int:
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(1)
    return pid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--stubborn-child", action="store_true")
    args, _ = parser.parse_known_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    if args.stubborn_child:
        print(f"fake-server: child pid {stubborn_child()}", flush=True)
    print(f"fake-server: pid {os.getpid()} listening on {args.host}:{args.port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    n = 0
    while True:
        n += 1
        print(f"fake-server: loading model tensors ({n}s)", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
