"""vLLM 0.33: `vllm serve MODEL` with exactly the flags the plan needs, and the same as --config YAML."""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ...artifacts import Artifact
from ...plan import Plan
from ...runtimes import profile
from ..base import (W502, Container, Target, can_think, kv_type, local_model, local_mount, needs_build_dir,
                    needs_tools, shell_path, template_override)
from ...text import one_line
from ..escape import sh
from ..options import Option, argv

# The KV cache types of the plan, in vLLM's --kv-cache-dtype words ("auto" = the model dtype).
KV_DTYPES = {"f16": None, "fp8": "fp8"}
# VLLM_* variables that 0.33 removed: emitting them only produces an "unknown variable" warning.
REMOVED_ENV = ("VLLM_USE_V1", "VLLM_ATTENTION_BACKEND")
SETTINGS = ("gpu_memory_utilization", "max_num_batched_tokens", "enable_prefix_caching", "enable_chunked_prefill",
            "enforce_eager", "block_size", "dtype", "env")


def known(enum: str, value: str) -> bool:
    return value in VllmTarget.flag_table()["enums"][enum]


class VllmTarget(Target):
    name = "vllm"
    runtime = "vllm"
    directory = "vllm"
    TENSOR_PARALLEL = PIPELINE_PARALLEL = EXPERT_PARALLEL = DATA_PARALLEL = MULTI_NODE = True
    SPECULATIVE = ("ngram", "draft", "mtp")
    KV_TYPES = tuple(KV_DTYPES)
    METRICS = True

    def emit(self, plan: Plan) -> list[Artifact]:
        options = self.options(plan)
        model = shell_path(local_model(plan)) if local_model(plan) else sh(model_arg(plan))
        script = self.render("serve.sh.j2", plan=plan, model=model, options=options, build_dir=needs_build_dir(plan),
                             env=self.env(plan), api_key_env=plan.serving.api_key_env,
                             multi_node=plan.parallelism.nodes > 1 or plan.hardware.nodes > 1)
        return [self.file("serve.sh", script, executable=True), self.file("config.yaml", config_yaml(plan, options))]

    def options(self, plan: Plan) -> list[Option]:
        """Every flag the plan decides, in a stable order."""
        self.check_unexpressed(plan)
        st = plan.settings
        opts = [Option("--served-model-name", [plan.serving.served_name]),
                Option("--host", plan.serving.host), Option("--port", plan.serving.port)]
        if plan.model.revision:
            opts.append(Option("--revision", plan.model.revision))
        if plan.model.quantization_flag and not known("quantization", plan.model.quantization_flag):
            self.unsupported(f"quantization {plan.model.quantization_flag!r} is not a vLLM 0.33 method")
        elif plan.model.quantization_flag:
            opts.append(Option("--quantization", plan.model.quantization_flag,
                               "the checkpoint's config does not name its quantization"))
        opts += [Option("--max-model-len", plan.context), Option("--max-num-seqs", plan.slots)]
        if st.gpu_memory_utilization is not None:
            opts.append(Option("--gpu-memory-utilization", st.gpu_memory_utilization))
        if st.max_num_batched_tokens is not None:
            opts.append(Option("--max-num-batched-tokens", st.max_num_batched_tokens))
        opts += self.kv_options(plan)
        for feature, value in (("prefix-caching", st.enable_prefix_caching),
                               ("chunked-prefill", st.enable_chunked_prefill)):
            if value is not None:  # 0.33 pairs --enable-X with --disable-X (utils/argparse_utils.py)
                opts.append(Option(f"--{'enable' if value else 'disable'}-{feature}"))
        if st.enforce_eager:
            opts.append(Option("--enforce-eager", True, "pinned: no CUDA graphs"))
        if st.block_size is not None:
            opts.append(Option("--block-size", st.block_size))
        if st.dtype is not None:
            opts.append(Option("--dtype", st.dtype))
        if plan.model.language_only:
            # every modality limit 0: the vision tower is never built or loaded (config/multimodal.py), so its
            # weights and encoder profiling leave memory to the KV cache, as the plan's text-only estimate has it
            opts.append(Option("--language-model-only", True, "text only: the vision tower is not loaded"))
        opts += self.parallel_options(plan)
        if plan.speculative is not None:
            opts.append(Option("--speculative-config", speculative_config(plan)))
        opts += self.parser_options(plan)
        if template_override(plan):
            opts.append(Option("--chat-template", template_override(plan)))
        return opts

    def kv_options(self, plan: Plan) -> list[Option]:
        k, v = kv_type(plan)
        if k != v:
            self.unsupported(f"separate K/V cache types ({k}/{v}) are not expressible; using {k} for both")
        if k not in KV_DTYPES:
            self.unsupported(f"KV cache type {k!r} has no vLLM --kv-cache-dtype; the model dtype is used",
                             help="use kv_cache = fp8 or f16 with vLLM")
            return []
        return [Option("--kv-cache-dtype", KV_DTYPES[k])] if KV_DTYPES[k] else []

    def parallel_options(self, plan: Plan) -> list[Option]:
        par = plan.parallelism
        opts = []
        if par.tensor > 1:
            opts.append(Option("--tensor-parallel-size", par.tensor))
        if par.pipeline > 1:
            opts.append(Option("--pipeline-parallel-size", par.pipeline))
        if par.replicas > 1:
            opts.append(Option("--data-parallel-size", par.replicas))
        if par.expert > 1:
            opts.append(Option("--enable-expert-parallel", True, "MoE experts are sharded across the GPUs"))
            if par.expert != par.tensor * par.replicas:
                self.unsupported(f"expert-parallel size {par.expert} differs from TP×DP "
                                 f"({par.tensor * par.replicas}); vLLM derives it from TP×DP", code=W502)
        if max(par.nodes, plan.hardware.nodes) > 1:
            opts.append(Option("--distributed-executor-backend", "ray", "multi-node runs on a Ray cluster"))
        return opts

    def parser_options(self, plan: Plan) -> list[Option]:
        opts = []
        if needs_tools(plan):
            if plan.model.tool_call_parser and not known("tool_call_parser", plan.model.tool_call_parser):
                self.unsupported(f"tool-call parser {plan.model.tool_call_parser!r} does not exist in vLLM 0.33")
            elif plan.model.tool_call_parser:
                opts += [Option("--enable-auto-tool-choice", True),
                         Option("--tool-call-parser", plan.model.tool_call_parser)]
            else:
                self.unsupported(f"task {plan.workload.task!r} needs tool calling but the catalog names no "
                                 f"tool-call parser for {plan.model.name}", code="W503")
        if can_think(plan):
            if plan.model.reasoning_parser and not known("reasoning_parser", plan.model.reasoning_parser):
                self.unsupported(f"reasoning parser {plan.model.reasoning_parser!r} does not exist in vLLM 0.33")
            elif plan.model.reasoning_parser:
                opts.append(Option("--reasoning-parser", plan.model.reasoning_parser))
            elif plan.model.thinking == "on":
                self.unsupported(f"{plan.model.name} thinks but the catalog names no reasoning parser for it; "
                                 "the thinking stays inside the content", code="W503")
        if plan.model.chat_template_kwargs:
            # json.loads'd and merged under each request's own kwargs (entrypoints/common/cli_args.py)
            opts.append(Option("--default-chat-template-kwargs", dict(plan.model.chat_template_kwargs),
                               "thinking on or off by default; a request may still choose"))
        return opts

    def env(self, plan: Plan) -> list[tuple[str, str]]:
        env = []
        for key, value in sorted(plan.settings.env.items()):
            if key in REMOVED_ENV:
                self.unsupported(f"environment variable {key} was removed in vLLM 0.33 and is not emitted")
            else:
                env.append((key, value))
        return env

    def check_unexpressed(self, plan: Plan) -> None:
        par = plan.parallelism
        if plan.model.source == "gguf" or plan.model.file:
            self.unsupported("vLLM 0.33 removed GGUF loading; serve this model with llama.cpp or Ollama")
        if par.gpu_layers is not None:
            self.unsupported(f"layer offload (gpu_layers={par.gpu_layers}) has no vLLM equivalent",
                             help="vLLM offloads by size with --cpu-offload-gb; let the solver choose llama.cpp")
        if par.n_cpu_moe is not None:
            self.unsupported("--n-cpu-moe (MoE experts on the CPU) is llama.cpp only")
        if par.split_mode not in (None, "none", "layer") or par.tensor_split:
            self.unsupported("llama.cpp split mode / tensor split do not apply to vLLM")
        unused = sorted(k for k, v in plan.settings.model_dump().items() if k not in SETTINGS and v is not None)
        for key in unused:
            self.unsupported(f"setting {key} has no vLLM flag")

    def container(self, plan: Plan) -> Container:
        opts = [o for o in self.options(plan) if o.flag not in ("--host", "--port")]
        mount = local_mount(plan)
        args = (mount[1] if mount else model_arg(plan),
                *argv([Option("--host", "0.0.0.0"), Option("--port", 8000), *opts]))
        repos = () if mount else ((model_arg(plan), plan.model.revision or ""),)
        if plan.speculative is not None and plan.speculative.draft_repo:
            repos += ((plan.speculative.draft_repo, ""),)
        dp = plan.parallelism.replicas
        return Container(image=plan.runtime.image, args=args, port=8000, local_files=(mount,) if mount else (),
                         health_cmd=("python3", "-c", "import urllib.request;"
                                     "urllib.request.urlopen('http://localhost:8000/health')"),
                         health_path="/health", cache_volume="hf-cache", cache_path=profile(self.runtime).cache_dir,
                         env={k: v for k, v in self.env(plan)}, ipc_host=True,
                         secret_env=("VLLM_API_KEY",) if plan.serving.api_key_env else (), hub_repos=repos,
                         # an API server and an engine core per DP rank, a worker per GPU, a DP coordinator
                         # (docs/design/arch_overview.md, "V1 Process Architecture")
                         processes=2 * dp + plan.hardware.gpus_per_node + (dp > 1),
                         # llmc's allowance for ~/.cache/vllm (torch.compile, kernel JIT), Triton's cache, Ray's logs
                         scratch_bytes=20 * 2**30)


def model_arg(plan: Plan) -> str:
    """The model as `vllm serve` takes it: a repo id, or a local folder (relative to the build directory)."""
    return local_model(plan) or plan.model.repo or plan.model.id


def speculative_config(plan: Plan) -> dict:
    spec = plan.speculative
    assert spec is not None
    config: dict = {"num_speculative_tokens": spec.num_tokens}
    if spec.method == "ngram":
        config["method"] = "ngram"
    elif spec.method == "mtp":
        config["method"] = "mtp"  # heads inside the target checkpoint: no draft model
    else:
        config.update(method="draft_model", model=spec.draft_repo)
    return dict(sorted(config.items()))


def config_yaml(plan: Plan, options: list[Option]) -> str:
    """The same settings as a `vllm serve --config` file (keys are long flag names)."""
    yaml = YAML()
    yaml.default_flow_style = False
    data = CommentedMap(model=model_arg(plan))
    for option in options:
        data[option.key] = option.value
        if option.comment:
            data.yaml_add_eol_comment(option.comment, option.key)
    out = io.StringIO()
    out.write(f"# vLLM {one_line(plan.runtime.version)} settings for {plan.deployment}: vllm serve --config config.yaml\n")
    yaml.dump(data, out)
    return out.getvalue()
