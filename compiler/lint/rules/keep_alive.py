from ...units import parse_go_duration
from ..context import finding
from ..registry import rule


@rule("W829", "OLL-KEEPALIVE", "A service that unloads its model when idle",
      "ollama#1782; slash-infra#41; Ollama 0.33 envconfig/config.go:130 (OLLAMA_KEEP_ALIVE 5m)")
def keep_alive(server, ctx):
    default = server.runtime.default_keep_alive_s
    if default is None or server.container is None:
        return
    value = server.value("keep_alive")
    seconds = parse_go_duration(value.text) if value and value.text and not value.symbolic else None
    if value is not None and (seconds is None or seconds < 0 or seconds >= 3600):
        return
    at = value or server.container.span
    after = f"{seconds:g} s" if value is not None else f"{default / 60:g} minutes (the default)"
    yield finding("W829", f"the model is unloaded after {after} idle; the next request waits for a reload",
                  at, label="unloads when idle",
                  detail="A reload reads the weights again and rebuilds the KV cache: tens of seconds to minutes "
                         "for a large model, paid by whoever asks first after a quiet spell.",
                  help="set OLLAMA_KEEP_ALIVE=-1 for a dedicated service (or a duration longer than the quiet "
                       "spells)")
