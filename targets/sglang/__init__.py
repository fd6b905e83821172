"""SGLang 0.5.23: launch.sh with `python3 -m sglang.launch_server` and its flags."""

from __future__ import annotations

from ...artifacts import Artifact
from ...plan import Plan
from ...runtimes import profile
from ..base import (Container, Target, can_think, kv_type, local_model, local_mount, needs_build_dir, needs_tools,
                    shell_path, template_override)
from ..options import Option, Raw

KV_DTYPES = {"f16": None, "fp8": "fp8_e4m3"}
SPEC_ALGORITHMS = {"draft": "STANDALONE", "ngram": "NGRAM", "mtp": "NEXTN"}
SETTINGS = ("mem_fraction_static", "enable_prefix_caching", "max_num_batched_tokens", "enforce_eager", "block_size",
            "dtype", "env")


class SglangTarget(Target):
    name = "sglang"
    runtime = "sglang"
    directory = "sglang"
    TENSOR_PARALLEL = PIPELINE_PARALLEL = EXPERT_PARALLEL = DATA_PARALLEL = MULTI_NODE = True
    SPECULATIVE = tuple(SPEC_ALGORITHMS)
    KV_TYPES = tuple(KV_DTYPES)
    METRICS = True

    def emit(self, plan: Plan) -> list[Artifact]:
        nodes = max(plan.parallelism.nodes, plan.hardware.nodes)
        script = self.render("launch.sh.j2", plan=plan, options=self.options(plan), nodes=nodes,
                             build_dir=needs_build_dir(plan),
                             env=sorted(plan.settings.env.items()), api_key_env=plan.serving.api_key_env)
        return [self.file("launch.sh", script, executable=True)]

    def options(self, plan: Plan, *, host: str | None = None, port: int | None = None,
                model: str | None = None) -> list[Option]:
        self.check_unexpressed(plan)
        par, st = plan.parallelism, plan.settings
        local = local_model(plan)
        if model is None:
            model = Raw(shell_path(local)) if local else (plan.model.repo or plan.model.id)
        opts = [Option("--model-path", model), Option("--served-model-name", plan.serving.served_name),
                Option("--host", host or plan.serving.host), Option("--port", port or plan.serving.port)]
        if plan.model.revision:
            opts.append(Option("--revision", plan.model.revision))
        if plan.model.quantization_flag:
            opts.append(Option("--quantization", plan.model.quantization_flag))
        opts += [Option("--context-length", plan.context), Option("--max-running-requests", plan.slots)]
        k, v = kv_type(plan)
        if k != v or k not in KV_DTYPES:
            self.unsupported(f"KV cache type {k}/{v} has no SGLang --kv-cache-dtype; the model dtype is used")
        elif KV_DTYPES[k]:
            opts.append(Option("--kv-cache-dtype", KV_DTYPES[k]))
        if st.mem_fraction_static is not None:
            opts.append(Option("--mem-fraction-static", st.mem_fraction_static))
        if st.enable_prefix_caching is False:
            opts.append(Option("--disable-radix-cache", True))
        for flag, value in (("--chunked-prefill-size", st.max_num_batched_tokens), ("--page-size", st.block_size),
                            ("--dtype", st.dtype)):
            if value is not None:
                opts.append(Option(flag, value))
        if st.enforce_eager:
            opts.append(Option("--disable-cuda-graph", True))
        for flag, size in (("--tp-size", par.tensor), ("--pp-size", par.pipeline), ("--dp-size", par.replicas),
                           ("--ep-size", par.expert)):
            if size > 1:
                opts.append(Option(flag, size))
        nodes = max(par.nodes, plan.hardware.nodes)
        if nodes > 1:
            opts += [Option("--nnodes", nodes), Option("--node-rank", Raw('"${NODE_RANK:-0}"')),
                     Option("--dist-init-addr", Raw('"${DIST_INIT_ADDR:?set DIST_INIT_ADDR to node0:port}"'))]
        opts += self.speculative_options(plan)
        if needs_tools(plan) and plan.model.tool_call_parser:
            opts.append(Option("--tool-call-parser", plan.model.tool_call_parser))
        if can_think(plan) and plan.model.reasoning_parser:
            opts.append(Option("--reasoning-parser", plan.model.reasoning_parser))
        if plan.model.chat_template_kwargs:  # srt/arg_groups/fields/serving.py: request kwargs take precedence
            opts.append(Option("--default-chat-template-kwargs", dict(plan.model.chat_template_kwargs)))
        if template_override(plan):
            opts.append(Option("--chat-template", template_override(plan)))
        opts.append(Option("--enable-metrics", True))
        return opts

    def speculative_options(self, plan: Plan) -> list[Option]:
        spec = plan.speculative
        if spec is None:
            return []
        opts = [Option("--speculative-algorithm", SPEC_ALGORITHMS[spec.method])]
        if spec.method == "draft":
            opts.append(Option("--speculative-draft-model-path", spec.draft_repo))
        if spec.method == "ngram":
            return opts + [Option("--speculative-num-draft-tokens", spec.num_tokens)]
        # The EAGLE family (NEXTN, STANDALONE) needs steps, top-k and draft tokens together or none of them
        # (srt/arg_groups/speculative_hook.py _handle_eagle_family); a chain of N steps verifies N + 1 tokens.
        return opts + [Option("--speculative-num-steps", spec.num_tokens), Option("--speculative-eagle-topk", 1),
                       Option("--speculative-num-draft-tokens", spec.num_tokens + 1)]

    def check_unexpressed(self, plan: Plan) -> None:
        par = plan.parallelism
        if par.gpu_layers is not None or par.n_cpu_moe is not None:
            self.unsupported("layer offload (gpu_layers / n_cpu_moe) has no SGLang equivalent")
        if par.split_mode not in (None, "none", "layer") or par.tensor_split:
            self.unsupported("llama.cpp split mode / tensor split do not apply to SGLang")
        if needs_tools(plan) and not plan.model.tool_call_parser:
            self.unsupported("task 'agent' needs tool calling but the catalog names no tool-call parser",
                             code="W503")
        unused = sorted(k for k, v in plan.settings.model_dump().items() if k not in SETTINGS and v is not None)
        for key in unused:
            self.unsupported(f"setting {key} has no SGLang flag")

    def container(self, plan: Plan) -> Container:
        mount = local_mount(plan)
        opts = self.options(plan, host="0.0.0.0", port=30000, model=mount[1] if mount else None)
        args = tuple(t for o in opts for t in o.argv())
        repos = () if mount else ((plan.model.repo or plan.model.id, plan.model.revision or ""),)
        if plan.speculative is not None and plan.speculative.draft_repo:
            repos += ((plan.speculative.draft_repo, ""),)
        return Container(image=plan.runtime.image, args=args, port=30000, local_files=(mount,) if mount else (),
                         entrypoint=("python3", "-m", "sglang.launch_server"),
                         health_cmd=("curl", "-f", "http://localhost:30000/health"), health_path="/health",
                         cache_volume="hf-cache", cache_path=profile(self.runtime).cache_dir,
                         env=dict(sorted(plan.settings.env.items())), ipc_host=True,
                         ulimits={"memlock": -1, "stack": 67108864}, hub_repos=repos,
                         # the tokenizer manager, a scheduler per GPU, the detokenizer, a DP controller
                         # (srt/entrypoints/engine.py _launch_subprocesses)
                         processes=2 + plan.hardware.gpus_per_node + (plan.parallelism.replicas > 1),
                         # llmc's allowance for the torch.compile, Triton and FlashInfer JIT caches and logs
                         scratch_bytes=20 * 2**30)
