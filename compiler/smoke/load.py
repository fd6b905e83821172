"""Send streaming OpenAI-compatible chat requests and time them.

The prompt is built from common words to about the workload's prompt length. The model's tokenizer
is not known here, so the length is calibrated with the server's own `/tokenize` when it has one,
and the actual prompt tokens are read back from each response's `usage` (llama.cpp and vLLM both
send it with `stream_options.include_usage`). Each request starts with its own number, so no two
share a prefix and a prefix cache cannot shorten the measured prefill.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

WORDS = ("the time people way year day thing man world life hand part child eye woman place work week "
         "case point number group problem fact water room mother area money story month lot right study "
         "book job word business issue side kind head house service friend father power hour game line").split()
CALIBRATION_ROUNDS = 3
CALIBRATION_TOLERANCE = 0.05
WAIT_SLICE_S = 0.2


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    runtime: str                       # plan.runtime.name: picks the /tokenize dialect
    api_key: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


@dataclass
class RequestResult:
    index: int
    ok: bool = False
    error: str = ""
    ttft_s: float | None = None
    tpot_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int = 0
    duration_s: float = 0.0
    server_timings: dict = field(default_factory=dict)


@dataclass
class LoadResult:
    requests: list[RequestResult]
    wall_s: float
    concurrency: int
    target_prompt_tokens: int
    prompt_text_tokens: int | None      # what /tokenize counted for the prompt text, when available
    max_tokens: int
    warmup_prompt_tokens: int | None = None   # the warm-up request's templated prompt, as the server counted it

    @property
    def ok(self) -> list[RequestResult]:
        return [r for r in self.requests if r.ok]

    @property
    def errors(self) -> int:
        return len(self.requests) - len(self.ok)

    def ttfts(self) -> list[float]:
        return [r.ttft_s for r in self.ok if r.ttft_s is not None]

    def tpots(self) -> list[float]:
        return [r.tpot_s for r in self.ok if r.tpot_s is not None]

    def throughput_tok_s(self) -> float | None:
        tokens = sum(r.completion_tokens for r in self.ok)
        return tokens / self.wall_s if self.wall_s > 0 and tokens else None

    def prompt_tokens_seen(self) -> int | None:
        seen = [r.prompt_tokens for r in self.ok if r.prompt_tokens is not None]
        return round(statistics.median(seen)) if seen else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def words_text(n_words: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(max(1, n_words)))


def count_tokens(client: httpx.Client, endpoint: Endpoint, text: str) -> int | None:
    """The server's token count for `text`, or None when it has no usable /tokenize."""
    if endpoint.runtime == "llama.cpp":
        body: dict = {"content": text}
    else:
        body = {"model": endpoint.model, "prompt": text}
    try:
        response = client.post(f"{endpoint.base_url}/tokenize", json=body, headers=endpoint.headers())
        data = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    if response.status_code != 200 or not isinstance(data, dict):
        return None
    if isinstance(data.get("count"), int):
        return data["count"]
    tokens = data.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


def build_prompt(target_tokens: int, counter: Callable[[str], int | None]) -> tuple[str, int | None]:
    """Text of about `target_tokens` tokens; with no counter, one word is taken as one token."""
    n_words = max(1, target_tokens)
    text, counted = words_text(n_words), None
    for _ in range(CALIBRATION_ROUNDS):
        counted = counter(text)
        if not counted or abs(counted - target_tokens) <= CALIBRATION_TOLERANCE * target_tokens:
            break
        n_words = max(1, round(n_words * target_tokens / counted))
        text = words_text(n_words)
        counted = None
    if counted is None:
        counted = counter(text)
    return text, counted


def calibrate_prompt(client: httpx.Client, endpoint: Endpoint,
                     target_tokens: int) -> tuple[str, int | None, int | None]:
    """A prompt whose whole request (chat template included) is about `target_tokens` tokens.

    One warm-up request (max_tokens 1, not measured) reads the server's count of the templated
    prompt; the text is then shortened by the template's share. Returns (text, text tokens, warm-up
    prompt tokens).
    """
    counter = lambda text: count_tokens(client, endpoint, text)  # noqa: E731
    text, counted = build_prompt(target_tokens, counter)
    warm = RequestResult(index=-1)
    stream_one(client, endpoint, chat_body(endpoint, f"[w] {text}", 1), warm)
    seen = warm.prompt_tokens if warm.ok else None
    if not seen or abs(seen - target_tokens) <= CALIBRATION_TOLERANCE * target_tokens:
        return text, counted, seen
    if counted:
        text, counted = build_prompt(max(1, target_tokens - (seen - counted)), counter)
    else:
        text = words_text(max(1, round(len(text.split()) * target_tokens / seen)))
    return text, counted, seen


def chat_body(endpoint: Endpoint, prompt: str, max_tokens: int) -> dict:
    return {
        "model": endpoint.model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0,
        "ignore_eos": True,  # llama.cpp and vLLM both honour it: every request runs to max_tokens
    }


def stream_one(client: httpx.Client, endpoint: Endpoint, body: dict, result: RequestResult) -> None:
    start = time.monotonic()
    first = last = None
    events = 0
    try:
        with client.stream("POST", f"{endpoint.base_url}/v1/chat/completions", json=body,
                           headers=endpoint.headers()) as response:
            if response.status_code != 200:
                response.read()
                result.error = f"HTTP {response.status_code}: {response.text[:200]}"
                return
            done = False
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if _has_token(chunk):
                    last = time.monotonic()
                    first = first or last
                    events += 1
                _read_usage(chunk, result)
            if not done:
                result.error = "the stream ended without [DONE]"
                return
    except (httpx.HTTPError, ValueError) as exc:
        result.error = f"{type(exc).__name__}: {exc}".strip()
        return
    finally:
        result.duration_s = time.monotonic() - start
    result.completion_tokens = result.completion_tokens or events
    if first is None:
        result.error = "no tokens in the answer"
        return
    result.ok = True
    result.ttft_s = first - start
    if result.completion_tokens > 1 and last is not None:
        result.tpot_s = (last - first) / (result.completion_tokens - 1)


def _has_token(chunk: dict) -> bool:
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("reasoning_content"):
            return True
    return False


def _read_usage(chunk: dict, result: RequestResult) -> None:
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        result.prompt_tokens = usage.get("prompt_tokens", result.prompt_tokens)
        result.completion_tokens = usage.get("completion_tokens") or result.completion_tokens
    if isinstance(chunk.get("timings"), dict):
        result.server_timings = chunk["timings"]


def run_load(endpoint: Endpoint, *, requests: int, concurrency: int, prompt_tokens: int, max_tokens: int,
             timeout_s: float, on_progress: Callable[[int, int], None] | None = None) -> LoadResult:
    """Send `requests` chat requests, `concurrency` at a time; returns when all have finished."""
    timeout = httpx.Timeout(timeout_s, connect=5.0)
    limits = httpx.Limits(max_connections=concurrency + 1)
    with httpx.Client(timeout=timeout, limits=limits, trust_env=False) as client:
        prompt, counted, warmup_tokens = calibrate_prompt(client, endpoint, prompt_tokens)
        results = [RequestResult(index=i) for i in range(requests)]
        pending = list(reversed(results))
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    result = pending.pop()
                body = chat_body(endpoint, f"[{result.index}] {prompt}", max_tokens)
                stream_one(client, endpoint, body, result)

        start = time.monotonic()
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, requests))]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(WAIT_SLICE_S)  # short joins keep the main thread free to take SIGINT
            if on_progress:
                on_progress(sum(1 for r in results if r.duration_s), requests)
        wall = time.monotonic() - start
    return LoadResult(requests=results, wall_s=wall, concurrency=concurrency, target_prompt_tokens=prompt_tokens,
                      prompt_text_tokens=counted, max_tokens=max_tokens, warmup_prompt_tokens=warmup_tokens)
