import posixpath

from ..context import finding
from ..registry import rule


@rule("W825", "CTR-CACHE", "Model files on no volume",
      "vllm#15862; opea GenAIExamples PR#1642; huggingface_hub constants (HF_HOME, ~/.cache/huggingface), "
      "llama.cpp common/common.cpp fs_get_cache_directory (LLAMA_CACHE), Ollama envconfig (OLLAMA_MODELS)")
def model_cache(server, ctx):
    c = server.container
    if c is None or not server.runtime.cache_dir:
        return
    mounts = [m.target.rstrip("/") or "/" for m in c.mounts]
    model = server.model
    path = model.text if model and model.text and model.text.startswith("/") else None
    if path is not None:
        if not any(_under(path, m) for m in mounts):
            yield finding("W825", f"{path} is on no volume of this container", model, label="not mounted",
                          detail="Unless the image itself contains the model, the server finds no file there.",
                          help=f"mount the model's directory, e.g. a volume at {posixpath.dirname(path) or path}")
        return
    moved = server.value("download_dir") or server.env.get(server.runtime.cache_env)
    cache = moved.text if moved and moved.text and not moved.symbolic else server.runtime.cache_dir
    if any(_under(cache, m) or _under(m, cache) for m in mounts):
        return
    yield finding("W825", f"no volume at {cache}: every restart downloads the model again", c.span,
                  label="model cache not persisted",
                  detail=f"{server.runtime.name} keeps downloaded weights in {cache}; in a container without a "
                         "volume there they are lost with the container.",
                  help=f"mount a named volume at {cache}" + (f" (or set {server.runtime.cache_env} to a mounted path)"
                                                             if server.runtime.cache_env else ""))


def _under(path: str, mount: str) -> bool:
    return path == mount or path.startswith(mount.rstrip("/") + "/")
