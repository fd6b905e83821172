"""llama.cpp llama-server (llama.cpp@0c1e57098): explicit context, slots, layers and caches, --fit off."""

from __future__ import annotations

import posixpath

from ...artifacts import Artifact
from ...plan import Plan
from ..base import Container, Target, kv_type, local_model, needs_build_dir, number, shell_path, template_override
from ..escape import Escaped, sh
from ..options import Option, Raw

CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
SETTINGS = ("flash_attention", "kv_unified", "batch_size", "ubatch_size", "threads", "env")
SPEC_TYPES = {"draft": "draft-simple", "ngram": "ngram-simple", "mtp": "draft-mtp"}


class LlamaCppTarget(Target):
    name = "llama.cpp"
    runtime = "llama.cpp"
    directory = "llama.cpp"
    CPU_ONLY = True
    LAYER_OFFLOAD = True
    SPECULATIVE = tuple(SPEC_TYPES)
    KV_TYPES = ("f16", "q8_0", "q4_0")
    METRICS = True

    def emit(self, plan: Plan) -> list[Artifact]:
        script = self.render("llama-server.sh.j2", plan=plan, env=sorted(plan.settings.env.items()),
                             models=model_files(plan), options=self.options(plan, Raw('"$MODEL"')),
                             api_key_env=plan.serving.api_key_env, build_dir=needs_build_dir(plan))
        return [self.file("llama-server.sh", script, executable=True)]

    def options(self, plan: Plan, model: str, *, host: str | None = None, port: int | None = None,
                key_file: str = '"$KEY_FILE"') -> list[Option]:
        self.check_unexpressed(plan)
        par, st = plan.parallelism, plan.settings
        opts = [Option("-m", model), Option("-a", plan.serving.served_name),
                Option("-c", plan.total_context, "context x slots: each slot holds a whole request"),
                Option("-np", plan.slots), Option("-ngl", gpu_layers(plan)),
                Option("--fit", "off", "use exactly the context and layers llmc computed"),
                Option("-fa", st.flash_attention or "auto")]
        opts += self.cache_options(plan)
        if st.kv_unified is not None:
            opts.append(Option("-kvu" if st.kv_unified else "-no-kvu", True))
        if par.split_mode is not None and plan.hardware.gpus_per_node > 0:
            opts.append(Option("-sm", par.split_mode))
        if par.tensor_split:
            opts.append(Option("-ts", ",".join(number(x) for x in par.tensor_split)))
        if par.n_cpu_moe is not None:
            opts.append(Option("--n-cpu-moe", par.n_cpu_moe, "MoE experts of the first layers stay in RAM"))
        for flag, value in (("-b", st.batch_size), ("-ub", st.ubatch_size), ("-t", st.threads)):
            if value is not None:
                opts.append(Option(flag, value))
        override = template_override(plan)
        if override and "{" in override:
            opts.append(Option("--chat-template", override))
        elif override:
            opts.append(Option("--chat-template-file", override))
        opts += self.speculative_options(plan)
        if plan.model.thinking:
            # `auto` detects from the template and can miss it; on/off set enable_thinking (--help of b11312).
            # The reasoning goes to reasoning_content either way (--reasoning-format auto = deepseek).
            opts.append(Option("--reasoning", plan.model.thinking, "think or answer at once, as the task wants"))
        opts += [Option("--host", host or plan.serving.host), Option("--port", port or plan.serving.port)]
        if plan.serving.api_key_env:
            opts.append(Option("--api-key-file", Raw(key_file)))
        opts.append(Option("--metrics", True))
        return opts

    def cache_options(self, plan: Plan) -> list[Option]:
        k, v = kv_type(plan)
        opts = []
        for flag, value in (("-ctk", k), ("-ctv", v)):
            if value in CACHE_TYPES:
                opts.append(Option(flag, value))
            else:
                self.unsupported(f"KV cache type {value!r} does not exist in llama.cpp; f16 is used",
                                 help="use kv_cache = q8_0, q4_0 or f16 with llama.cpp")
                opts.append(Option(flag, "f16"))
        return opts

    def speculative_options(self, plan: Plan) -> list[Option]:
        spec = plan.speculative
        if spec is None:
            return []
        opts = [Option("--spec-type", SPEC_TYPES[spec.method])]
        if spec.method == "draft":
            opts.append(Option("--spec-draft-model", Raw('"$DRAFT_MODEL"')))
        if spec.method != "ngram":
            opts.append(Option("--spec-draft-n-max", spec.num_tokens))
        return opts

    def check_unexpressed(self, plan: Plan) -> None:
        par = plan.parallelism
        if par.tensor > 1 and par.split_mode not in ("row", "tensor"):
            self.unsupported(f"tensor parallel {par.tensor} needs split mode row or tensor; layers are split")
        for label, size in (("pipeline", par.pipeline), ("data-parallel replicas", par.replicas),
                            ("expert", par.expert), ("nodes", max(par.nodes, plan.hardware.nodes))):
            if size > 1:
                self.unsupported(f"{label} = {size} cannot be expressed by one llama-server")
        if plan.model.source != "local" and not (plan.model.repo and plan.model.file):
            self.unsupported(f"model {plan.model.id} has no GGUF repo/file; llama-server needs a GGUF")
        if plan.model.quantization_flag:
            self.unsupported(f"--quantization {plan.model.quantization_flag} is a vLLM/SGLang flag; GGUF "
                             "files carry their own quantization")
        unused = sorted(k for k, v in plan.settings.model_dump().items() if k not in SETTINGS and v is not None)
        for key in unused:
            self.unsupported(f"setting {key} has no llama-server flag")

    def container(self, plan: Plan) -> Container:
        files = model_files(plan)
        model = f"/models/{files[0].relative}" if files else "/models/model.gguf"
        opts = self.options(plan, model, host="0.0.0.0", port=8080, key_file="/run/secrets/api_key")
        args = tuple(t for o in opts for t in o.argv())
        if plan.speculative is not None and plan.speculative.method == "draft" and len(files) > 1:
            args = tuple(f"/models/{files[1].relative}" if t == '"$DRAFT_MODEL"' else t for t in args)
        local = tuple((m.path, f"/models/{m.relative}") for m in files if m.path)
        return Container(image=plan.runtime.image, args=args, port=8080,
                         health_cmd=("curl", "-f", "http://localhost:8080/health"), health_path="/health",
                         cache_volume="models", cache_path="/models", env=dict(sorted(plan.settings.env.items())),
                         secret_env=("api_key",) if plan.serving.api_key_env else (),
                         fetch_script=fetch_script(files), local_files=local)


class ModelFile:
    """A GGUF the script loads: downloaded from its repo, or a local path."""

    def __init__(self, var: str, repo: str | None, file: str | None, revision: str | None, path: str | None):
        self.var, self.repo, self.file, self.revision, self.path = var, repo, file, revision, path

    @property
    def relative(self) -> str:
        return f"{self.repo}/{self.file}" if self.repo else str(self.path).rsplit("/", 1)[-1]

    @property
    def relative_dir(self) -> str:
        return posixpath.dirname(self.relative) or "."

    @property
    def shell_path(self) -> Escaped:
        return shell_path(self.path)

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}/resolve/{self.revision or 'main'}/{self.file}"


def model_files(plan: Plan) -> list[ModelFile]:
    m = plan.model
    files = [ModelFile("MODEL", m.repo if m.source != "local" else None, m.file, m.revision, local_model(plan))]
    spec = plan.speculative
    if spec is not None and spec.method == "draft" and spec.draft_repo and spec.draft_file:
        files.append(ModelFile("DRAFT_MODEL", spec.draft_repo, spec.draft_file, None, None))
    return files


def fetch_script(files: list[ModelFile]) -> str | None:
    """A POSIX sh script that downloads the GGUFs into /models once (run with the image's own curl
    before the server starts: Compose one-shot service, Kubernetes init container)."""
    lines = []
    for m in files:
        if m.path:
            continue
        target = f"/models/{m.relative}"
        lines.append(f'[ -f {sh(target)} ] || {{ mkdir -p {sh(target.rsplit("/", 1)[0])} && '
                     f'curl -fL --retry 3 "$@" -o {sh(target + ".part")} {sh(m.url)} && '
                     f'mv {sh(target + ".part")} {sh(target)}; }}')
    if not lines:
        return None
    auth = 'if [ -n "${HF_TOKEN:-}" ]; then set -- -H "Authorization: Bearer $HF_TOKEN"; else set --; fi'
    return "\n".join(["set -e", auth, *lines])


def gpu_layers(plan: Plan) -> str | int:
    if plan.hardware.gpus_per_node == 0:
        return 0
    if plan.parallelism.gpu_layers is not None:
        return plan.parallelism.gpu_layers
    return "all"
