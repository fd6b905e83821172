import json
from pathlib import Path

from ...catalog.gguf_header import read_header
from ..context import finding
from ..registry import rule


@rule("W818", "NO-CHAT-TEMPLATE", "Local model without a chat template",
      "vllm#39279, #29849; ollama#6371, #8982; Ollama 0.33 server/model.go:93 (a GGUF's tokenizer.chat_template "
      "is matched to a built-in template); vLLM refuses chat requests without a template")
def chat_template(server, ctx):
    model = server.value("model")
    if model is None or not model.text or model.symbolic or server.template or server.value("chat_template"):
        return
    path = Path(model.text)
    if not path.is_absolute():
        path = Path(server.span.file).parent / path
    if not _lacks_template(path):
        return
    yield finding("W818", f"{model.text} has no chat template, and the config gives none", model,
                  label="no chat template",
                  detail="Chat requests then fail (\"default chat template is no longer allowed\"), or the prompt "
                         "is sent without the model's turn markers and the answer never stops.",
                  help="give one: a Modelfile TEMPLATE, --chat-template FILE, or a checkpoint that ships one")


def _lacks_template(path: Path) -> bool:
    """A GGUF without `tokenizer.chat_template`, or a model folder whose tokenizer config has none; False when
    the file is not here to read."""
    try:
        if path.is_file() and path.suffix.lower() == ".gguf":
            return "tokenizer.chat_template" not in read_header(path).fields
        config = path / "tokenizer_config.json"
        if path.is_dir() and config.is_file():
            return "chat_template" not in json.loads(config.read_text(encoding="utf-8")) and not any(
                (path / name).is_file() for name in ("chat_template.jinja", "chat_template.json"))
    except (OSError, ValueError):
        return False
    return False
