from ..context import finding
from ..registry import rule


@rule("E838", "SEC-INLINE-KEY", "API key written into the config",
      "llmc's own rule (docs/language.md `api_key = env(...)`, E215): a secret in a reviewed file is leaked")
def inline_key(server, ctx):
    key = server.value("api_key")
    if key is None or key.symbolic or not key.text:
        return
    knob = server.runtime.knob("api_key")
    yield finding("E838", "the API key is written into the file", key, label="a secret in the config",
                  detail="Whoever reads the repository, the process list or the pod spec has the key.",
                  help=f"read it from the environment (`{knob.flag} \"${knob.env or 'API_KEY'}\"`) or a secret"
                  if knob and knob.flag else "read it from a secret")
