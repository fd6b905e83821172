"""Ollama v0.33: a Modelfile, the server environment (ollama.env) and create.sh.

Ollama starts llama-server underneath with `-c num_ctx*OLLAMA_NUM_PARALLEL -np OLLAMA_NUM_PARALLEL`,
so num_ctx is the plan's per-request context.
"""

from __future__ import annotations

import posixpath

from ...artifacts import Artifact
from ...plan import Plan
from ...runtimes import profile
from ...names import bracketed
from ..base import Container, Target, kv_type, template_override
from ..llamacpp import ModelFile, model_files
from .modelfile import check

KV_TYPES = ("f16", "q8_0", "q4_0")
SETTINGS = ("flash_attention", "threads", "batch_size", "keep_alive_s", "env")


class OllamaTarget(Target):
    name = "ollama"
    runtime = "ollama"
    directory = "ollama"
    CPU_ONLY = True
    LAYER_OFFLOAD = True
    SPECULATIVE = ("draft",)
    KV_TYPES = KV_TYPES
    API_KEY = False

    def emit(self, plan: Plan) -> list[Artifact]:
        self.check_unexpressed(plan)
        files = model_files(plan)
        modelfile = self.render("Modelfile.j2", plan=plan, source=from_line(files[0]), params=self.parameters(plan),
                                draft=from_line(files[1]) if len(files) > 1 else None)
        for problem in check(modelfile):
            raise AssertionError(f"emitted Modelfile is invalid: {problem}")  # a bug in this target
        return [self.file("Modelfile", modelfile),
                self.file("ollama.env", self.render("ollama.env.j2", env=self.server_env(plan))),
                self.file("create.sh", self.render("create.sh.j2", plan=plan, models=files), executable=True)]

    def parameters(self, plan: Plan) -> list[tuple[str, object]]:
        params: list[tuple[str, object]] = [("num_ctx", num_ctx(self, plan)), ("num_gpu", num_gpu(plan))]
        if plan.settings.threads is not None:
            params.append(("num_thread", plan.settings.threads))
        if plan.settings.batch_size is not None:
            params.append(("num_batch", plan.settings.batch_size))
        if plan.speculative is not None and plan.speculative.method == "draft":
            params.append(("draft_num_predict", plan.speculative.num_tokens))
        params += [("stop", stop) for stop in plan.model.stop]
        return params

    def server_env(self, plan: Plan) -> list[tuple[str, str, str]]:
        """(name, value, comment) lines of ollama.env."""
        k, v = kv_type(plan)
        if k != v:
            self.unsupported(f"separate K/V cache types ({k}/{v}); OLLAMA_KV_CACHE_TYPE sets both to {k}")
        if k not in KV_TYPES:
            self.unsupported(f"KV cache type {k!r} does not exist in Ollama; f16 is used")
            k = "f16"
        flash = plan.settings.flash_attention
        env = [("OLLAMA_HOST", f"{bracketed(plan.serving.host)}:{plan.serving.port}", "bind address of `ollama serve`"),
               ("OLLAMA_NUM_PARALLEL", str(plan.slots), "concurrent requests per model (llama-server -np)"),
               ("OLLAMA_CONTEXT_LENGTH", str(num_ctx(self, plan)), "per-request context; never the VRAM-tier default"),
               ("OLLAMA_KV_CACHE_TYPE", k, "quantized KV types need flash attention")]
        if flash == "auto" or flash is None:
            if k != "f16":
                env.append(("OLLAMA_FLASH_ATTENTION", "1", "forced on: quantized KV cache needs it"))
            else:
                env.append(("OLLAMA_FLASH_ATTENTION", "", "empty = auto"))
        else:
            env.append(("OLLAMA_FLASH_ATTENTION", "1" if flash == "on" else "0", ""))
        env.append(("OLLAMA_KEEP_ALIVE", keep_alive(plan.settings.keep_alive_s),
                    "a dedicated server keeps its model loaded (the 5m default unloads it when idle)"))
        env += [(key, value, "") for key, value in sorted(plan.settings.env.items())]
        return sorted(env)

    def check_unexpressed(self, plan: Plan) -> None:
        par = plan.parallelism
        for label, size in (("tensor", par.tensor), ("pipeline", par.pipeline), ("data-parallel replicas", par.replicas),
                            ("expert", par.expert), ("nodes", max(par.nodes, plan.hardware.nodes))):
            if size > 1:
                self.unsupported(f"{label} parallel = {size} cannot be expressed in Ollama")
        if par.split_mode not in (None, "layer") or par.tensor_split:
            self.unsupported("split mode / tensor split are chosen by Ollama's scheduler, not by the Modelfile")
        if par.n_cpu_moe is not None:
            self.unsupported("--n-cpu-moe has no Ollama parameter; Ollama offloads whole layers (num_gpu)")
        if plan.serving.api_key_env:
            self.unsupported("Ollama has no API key; put an authenticating proxy in front of it",
                             help="bind to 127.0.0.1 (the default) or use vLLM / llama.cpp for a keyed endpoint")
        if plan.speculative is not None and plan.speculative.method != "draft":
            self.unsupported(f"speculative method {plan.speculative.method!r}: Ollama only has DRAFT models")
        if template_override(plan):
            self.unsupported("a Jinja chat template cannot be a Modelfile TEMPLATE (Go templates); "
                             "Ollama uses the GGUF's template")
        if plan.settings.kv_unified is not None:
            self.unsupported("kv_unified has no Ollama setting")
        if plan.model.thinking == "off":
            self.unsupported(f"{plan.model.name} thinks by default and Ollama has no server-wide switch "
                             "(server/routes.go turns `think` on for thinking models)",
                             help='clients send "think": false (or reasoning_effort "none" on /v1)')
        unused = sorted(k for k, v in plan.settings.model_dump().items()
                        if k not in SETTINGS and k != "kv_unified" and v is not None)
        for key in unused:
            self.unsupported(f"setting {key} has no Ollama equivalent")

    def container(self, plan: Plan) -> Container:
        env = {name: value for name, value, _ in self.server_env(plan) if value}
        env["OLLAMA_HOST"] = "0.0.0.0:11434"
        return Container(image=plan.runtime.image, args=(), port=11434, health_cmd=("ollama", "list"),
                         health_path="/", cache_volume="ollama", cache_path=profile(self.runtime).cache_dir,
                         env=env,
                         start_period_s=120, loads_at_start=False, processes=2)  # `ollama serve` and its runner


def from_line(model: ModelFile) -> str:
    """Ollama resolves a relative FROM against the Modelfile's folder (parser.go expandPath), one below
    the build directory."""
    if model.path:
        return model.path if posixpath.isabs(model.path) else posixpath.join("..", model.path)
    return f"./{model.relative}"


def num_ctx(target: Target, plan: Plan) -> int:
    """Per request: Ollama starts llama-server with -c num_ctx x OLLAMA_NUM_PARALLEL itself."""
    return plan.context


def num_gpu(plan: Plan) -> int:
    """Layers on the GPU (llama-server -ngl): all of them plus the output layer unless the plan offloads."""
    if plan.hardware.gpus_per_node == 0:
        return 0
    if plan.parallelism.gpu_layers is not None:
        return plan.parallelism.gpu_layers
    return plan.model.n_layers + 1


def equivalent_llama_server_args(plan: Plan) -> list[str]:
    """The llama-server arguments Ollama v0.33 passes for this plan (llm/llama_server.go)."""
    k, _ = kv_type(plan)
    flash = plan.settings.flash_attention or ("on" if k != "f16" else "auto")
    ctx = plan.context
    args = ["--host", "127.0.0.1", "--no-webui", "--offline", "-c", str(ctx * plan.slots), "-np", str(plan.slots),
            "-ngl", str(num_gpu(plan)), "--cache-type-k", k, "--cache-type-v", k, "--flash-attn", flash]
    if plan.settings.threads is not None:
        args += ["-t", str(plan.settings.threads)]
    if plan.settings.batch_size is not None:
        args += ["-b", str(plan.settings.batch_size), "-ub", str(plan.settings.batch_size)]
    return args


def keep_alive(seconds: float | None) -> str:
    """OLLAMA_KEEP_ALIVE as Go's time.ParseDuration or a plain number of seconds reads it (envconfig/config.go
    KeepAlive): -1 keeps the model loaded for ever, llmc's default for a dedicated server."""
    return "-1" if seconds is None or seconds < 0 else f"{seconds:g}s"
