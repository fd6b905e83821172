"""Send streaming OpenAI-compatible chat requests and time them.

The prompt is built from common words to about the workload's prompt length. The model's tokenizer
is not known here, so the length is calibrated with the server's own `/tokenize` when it has one,
and the actual prompt tokens are read back from each response's `usage` (llama.cpp and vLLM both
send it with `stream_options.include_usage`). Each request starts with its own number, so no two
share a prefix and a prefix cache cannot shorten the measured prefill.

The whole load (calibration included) runs against the run's one deadline: what is still out when it
passes is failed as cut. Every answer is read as sent and checked for shape, line by line; a broken
one (BadStream) fails its request with the reason, never the run.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import httpx

from ..runtimes import known, profile
from .deadline import Deadline, DeadlinePassed, within

WORDS = ("the time people way year day thing man world life hand part child eye woman place work week "
         "case point number group problem fact water room mother area money story month lot right study "
         "book job word business issue side kind head house service friend father power hour game line").split()
CALIBRATION_ROUNDS = 3
CALIBRATION_TOLERANCE = 0.05
CONNECT_TIMEOUT_S = 5.0
MAX_LINE_BYTES = 1024 * 1024        # one stream line (a chunk is a few hundred bytes)
MAX_BODY_BYTES = 16 * 1024 * 1024   # a /tokenize answer (a long prompt's token list)
ERROR_EXCERPT_BYTES = 200          # of an HTTP error's body, for the message
MAX_TOKEN_COUNT = 2**31


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
    cut: int = 0                              # requests failed because the run's deadline passed first

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


def scaled(text: str, factor: float) -> str:
    """`text` of words_text's making, lengthened or shortened to `factor` times its words."""
    return words_text(round(len(text.split()) * factor))


def count_tokens(client: httpx.Client, endpoint: Endpoint, text: str) -> int | None:
    """The server's token count for `text`, or None when it has no usable /tokenize."""
    if known(endpoint.runtime) and profile(endpoint.runtime).tokenize == "content":
        body: dict = {"content": text}
    else:
        body = {"model": endpoint.model, "prompt": text}
    try:
        with client.stream("POST", f"{endpoint.base_url}/tokenize", json=body,
                           headers=endpoint.headers()) as response:
            raw = read_head(response, MAX_BODY_BYTES)
        data = json.loads(raw) if response.status_code == 200 and len(raw) <= MAX_BODY_BYTES else None
    except (httpx.HTTPError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if "count" in data:
        return token_count(data["count"])
    tokens = data.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


def read_head(response: httpx.Response, limit: int) -> bytes:
    """The body as sent (not decompressed), read no further than `limit` bytes and the chunk that passes it."""
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


def token_count(value: object) -> int | None:
    """`value` when it is a token count (a whole number, 0 to 2^31), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKEN_COUNT:
        return value
    return None


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


class BadStream(ValueError):
    """The answer is not an OpenAI chat completion stream."""


def stream_one(client: httpx.Client, endpoint: Endpoint, body: dict, result: RequestResult) -> None:
    start = time.monotonic()
    first = last = None
    events = 0
    try:
        with client.stream("POST", f"{endpoint.base_url}/v1/chat/completions", json=body,
                           headers=endpoint.headers()) as response:
            if response.status_code != 200:
                text = read_head(response, ERROR_EXCERPT_BYTES)[:ERROR_EXCERPT_BYTES].decode("utf-8", "replace")
                result.error = f"HTTP {response.status_code}: {text}"
                return
            done = False
            for line in sse_lines(response.iter_raw()):
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                chunk = parse_chunk(data)
                if _has_token(chunk):
                    last = time.monotonic()
                    first = first or last
                    events += 1
                _read_usage(chunk, result)
            if not done:
                result.error = "the stream ended without [DONE]"
                return
    except BadStream as exc:
        result.error = f"bad stream: {exc}"
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


def sse_lines(chunks: Iterable[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of an event stream, decoded; BadStream for a line over `limit` bytes.

    CR, LF and CRLF all end a line (a CRLF adds an empty line, which an event stream ignores anyway).
    """
    pending = bytearray()
    for chunk in chunks:
        *ends, rest = chunk.replace(b"\r", b"\n").split(b"\n")
        for end in ends:
            pending += end
            yield _line(pending, limit)
            pending.clear()
        pending += rest
        if len(pending) > limit:
            raise BadStream(f"a line longer than {limit // 1024} KiB")
    if pending:
        yield _line(pending, limit)


def _line(raw: bytearray, limit: int) -> str:
    if len(raw) > limit:
        raise BadStream(f"a line longer than {limit // 1024} KiB")
    return raw.decode("utf-8", "replace")


def parse_chunk(data: str) -> dict:
    """One `data:` payload as a JSON object, or BadStream saying what it is instead."""
    try:
        chunk = json.loads(data)
    except (ValueError, RecursionError):   # RecursionError: nesting deeper than the parser goes
        raise BadStream(f"a chunk is not JSON: {_excerpt(data)}") from None
    if not isinstance(chunk, dict):
        raise BadStream(f"a chunk is {_describe(chunk)}, not a JSON object")
    return chunk


def _excerpt(text: str) -> str:
    return repr(text[:60]) + ("..." if len(text) > 60 else "")


def _describe(value: object) -> str:
    """A parsed JSON value for a message: a scalar as itself, a container by its kind (it may nest deep)."""
    if isinstance(value, (list, dict)):
        return "a JSON array" if isinstance(value, list) else "a JSON object"
    text = json.dumps(value)
    return text[:60] + ("..." if len(text) > 60 else "")


def _has_token(chunk: dict) -> bool:
    choices = chunk.get("choices")
    if choices is None:
        return False      # a usage-only chunk
    if not isinstance(choices, list):
        raise BadStream(f"`choices` is {_describe(choices)}, not an array")
    for choice in choices:
        if not isinstance(choice, dict):
            raise BadStream(f"a choice is {_describe(choice)}, not an object")
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise BadStream(f"a choice's `delta` is {_describe(delta)}, not an object")
        if delta.get("content") or delta.get("reasoning_content"):
            return True
    return False


def _read_usage(chunk: dict, result: RequestResult) -> None:
    usage = chunk.get("usage")
    if usage is not None:
        if not isinstance(usage, dict):
            raise BadStream(f"`usage` is {_describe(usage)}, not an object")
        if "prompt_tokens" in usage:
            result.prompt_tokens = _usage_count(usage, "prompt_tokens")
        if "completion_tokens" in usage:
            result.completion_tokens = _usage_count(usage, "completion_tokens") or result.completion_tokens
    if isinstance(chunk.get("timings"), dict):
        result.server_timings = chunk["timings"]


def _usage_count(usage: dict, key: str) -> int:
    count = token_count(usage[key])
    if count is None:
        raise BadStream(f"usage.{key} is {_describe(usage[key])}, not a token count")
    return count


class Batch:
    """The requests of one run: handed to workers one by one, and cut when the deadline passes.

    A worker fills in a result of its own and hands it back; after the cut, what comes back late is
    dropped, so the results read at the deadline do not change under the reader.
    """

    def __init__(self, count: int):
        self.count = count
        self._next = 0
        self._done: dict[int, RequestResult] = {}
        self._cut = False
        self._lock = threading.Lock()
        self.started: float | None = None    # time.monotonic() of the first request
        self.ended: float | None = None      # ... and of the last answer

    def take(self) -> int | None:
        with self._lock:
            if self._cut or self._next >= self.count:
                return None
            self._next += 1
            self.started = self.started or time.monotonic()
            return self._next - 1

    def put(self, result: RequestResult) -> None:
        with self._lock:
            if not self._cut:
                self._done[result.index] = result
                self.ended = time.monotonic()

    def finished(self) -> int:
        with self._lock:
            return len(self._done)

    def close(self, cut_error: str) -> tuple[list[RequestResult], float]:
        """Every request's result (`cut_error` for those not finished) and the wall time of the batch."""
        with self._lock:
            self._cut = True
            results = [self._done.get(i) or RequestResult(index=i, error=cut_error) for i in range(self.count)]
            if self.started is None:
                return results, 0.0
            end = self.ended if len(self._done) == self.count else time.monotonic()
            return results, end - self.started


def run_load(endpoint: Endpoint, *, requests: int, concurrency: int, prompt_tokens: int, max_tokens: int,
             deadline: Deadline, on_progress: Callable[[int, int], None] | None = None,
             lengths: list[tuple[int, int]] | None = None) -> LoadResult:
    """Send `requests` chat requests, `concurrency` at a time; returns when all have finished or the
    deadline passed (requests still out then are failed as cut). `lengths`: each request's (prompt, answer)
    tokens, its prompt the calibrated one scaled to it; without, every request is `prompt_tokens` and
    `max_tokens` long."""
    batch = Batch(requests)
    calibration: dict[str, int | None] = {"counted": None, "warmup": None}

    def drive() -> None:
        timeout = httpx.Timeout(deadline.seconds, connect=CONNECT_TIMEOUT_S)
        with httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=concurrency + 1),
                          headers={"Accept-Encoding": "identity"}, trust_env=False) as client:
            prompt, calibration["counted"], calibration["warmup"] = calibrate_prompt(client, endpoint, prompt_tokens)

            def worker() -> None:
                while (index := batch.take()) is not None:
                    result = RequestResult(index=index)
                    text, answer = prompt, max_tokens
                    if lengths:
                        text = scaled(prompt, lengths[index][0] / prompt_tokens)
                        answer = lengths[index][1]
                    stream_one(client, endpoint, chat_body(endpoint, f"[{index}] {text}", answer), result)
                    batch.put(result)

            threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, requests))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    tick = (lambda: on_progress(batch.finished(), requests)) if on_progress else None
    try:
        within(deadline, drive, tick)
    except DeadlinePassed:
        pass
    cut_error = f"cut at the deadline: no answer within --timeout {deadline.seconds:g}s"
    results, wall = batch.close(cut_error)
    return LoadResult(requests=results, wall_s=wall, concurrency=concurrency, target_prompt_tokens=prompt_tokens,
                      prompt_text_tokens=calibration["counted"], max_tokens=max_tokens,
                      warmup_prompt_tokens=calibration["warmup"], cut=sum(r.error == cut_error for r in results))
