"""Thinking models are told what the deployment wants: the reasoning is parsed out of the answer for every
task, and thinking is switched off where the task wants fast answers (or on where the model needs asking).

Before this, a chat deployment of Qwen3-8B on vLLM had no reasoning parser and leaked `<think>` text into
`content`. Each emitted vLLM command here is checked by vLLM 0.33's own parser.
"""

from __future__ import annotations

import json

import pytest
from llmc.solve import solve
from llmc.targets import emit_all

from tests.support.emitted import files
from tests.support.specs import deployment, spec_text
from tests.support.vllm_check import parse_with_vllm, serve_argv

GPU = '    gpu = 1 x "H100 SXM"'
CASES = {  # name: (model, runtime, task, thinking written, expected reasoning parser, expected template kwargs)
    "qwen3 chat": ("Qwen/Qwen3-8B", "vllm", "chat", None, "qwen3", {"enable_thinking": False}),
    "qwen3 code": ("Qwen/Qwen3-8B", "vllm", "code", None, "qwen3", {"enable_thinking": False}),
    "qwen3 reasoning": ("Qwen/Qwen3-8B", "vllm", "reasoning", None, "qwen3", {}),
    "qwen3 reasoning, thinking off": ("Qwen/Qwen3-8B", "vllm", "reasoning", "off", "qwen3", {"enable_thinking": False}),
    "qwen3 chat, thinking on": ("Qwen/Qwen3-8B", "vllm", "chat", "on", "qwen3", {}),
    "gpt-oss chat": ("openai/gpt-oss-20b", "vllm", "chat", None, "openai_gptoss", {}),
    "llama chat": ("meta-llama/Llama-3.1-8B-Instruct", "vllm", "chat", None, None, {}),
}


def plan_for(catalog, model: str, runtime: str, task: str, thinking: str | None, gpu: str = GPU):
    workload = f"  workload {{\n    task = {task}\n" + (f"    thinking = {thinking}\n" if thinking else "") + "  }"
    body = f'{workload}\n  model = "{model}"\n  runtime = {runtime}'
    plan, diagnostics = solve(deployment(spec_text(gpu, body=body)), catalog)
    assert plan is not None, [d.summary for d in diagnostics]
    return plan




@pytest.fixture(scope="module")
def vllm_cases(catalog):
    plans = {name: plan_for(catalog, *case[:4]) for name, case in CASES.items()}
    argvs = {name: serve_argv(files(plan)["vllm/serve.sh"]) for name, plan in plans.items()}
    return plans, dict(zip(argvs, parse_with_vllm(list(argvs.values()))))


@pytest.mark.parametrize("name", sorted(CASES))
def test_vllm_is_told_how_the_model_thinks(vllm_cases, name):
    *_, parser, kwargs = CASES[name]
    plans, parsed = vllm_cases
    result = parsed[name]
    assert result["ok"], result["problems"]
    namespace = result["namespace"]
    assert (namespace["reasoning_parser"] or None) == parser  # vLLM's default is ""
    assert (namespace["default_chat_template_kwargs"] or {}) == kwargs
    assert plans[name].model.chat_template_kwargs == kwargs


def test_a_model_that_needs_asking_is_asked_to_think(catalog):
    """DeepSeek-V3.1 thinks only on request; without `thinking: true` its reasoning parser is the identity
    (vLLM reasoning/deepseek_v3_reasoning_parser.py)."""
    plan = plan_for(catalog, "deepseek-ai/DeepSeek-V3.1", "vllm", "reasoning", None, gpu='    gpu = 8 x "H200 SXM"')
    assert plan.model.thinking == "on" and plan.model.chat_template_kwargs == {"thinking": True}
    script = files(plan)["vllm/serve.sh"]
    assert "--reasoning-parser deepseek_v3" in script and """--default-chat-template-kwargs '{"thinking":true}'""" in script


def test_a_model_that_always_thinks_says_so(catalog):
    plan = plan_for(catalog, "openai/gpt-oss-20b", "vllm", "chat", None)
    assert plan.model.thinking == "on" and any("always thinks" in note for note in plan.notes)


def test_llama_server_is_told_on_or_off(catalog):
    chat = plan_for(catalog, "Qwen/Qwen3-8B", "llama.cpp", "chat", None, gpu='    gpu = 1 x "RTX 4090"')
    reasoning = plan_for(catalog, "Qwen/Qwen3-8B", "llama.cpp", "reasoning", None, gpu='    gpu = 1 x "RTX 4090"')
    assert "--reasoning off" in files(chat)["llama.cpp/llama-server.sh"]
    assert "--reasoning on" in files(reasoning)["llama.cpp/llama-server.sh"]


def test_ollama_says_clients_must_switch_thinking_off(catalog):
    plan = plan_for(catalog, "Qwen/Qwen3-8B", "ollama", "chat", None, gpu='    gpu = 1 x "RTX 4090"')
    diagnostics = emit_all(plan)[1]
    assert any("think" in d.summary and d.code == "W501" for d in diagnostics)


def test_every_thinking_model_has_a_parser_and_every_parser_a_thinking_model(catalog):
    for model in catalog.models.values():
        has_parser = any(p.reasoning for p in model.parsers.values())
        assert has_parser == (model.thinking is not None), model.id
        if model.thinking is not None:
            assert model.thinking.source


def test_the_sglang_command_carries_the_same_switch(catalog):
    plan = plan_for(catalog, "Qwen/Qwen3-8B", "sglang", "chat", None)
    script = files(plan)["sglang/launch.sh"]
    assert "--reasoning-parser qwen3" in script
    assert json.loads(script.split("--default-chat-template-kwargs ", 1)[1].split(" ", 1)[0].strip("'")) == \
        {"enable_thinking": False}


def test_a_vision_checkpoint_served_for_text_does_not_load_its_vision_tower(catalog):
    """vLLM builds no vision tower under --language-model-only (config/multimodal.py: every modality limit 0),
    which is what the text-only memory estimate assumes; a multimodal deployment keeps it."""
    text = plan_for(catalog, "google/gemma-3-12b-it", "vllm", "chat", None)
    vision = plan_for(catalog, "google/gemma-3-12b-it", "vllm", "multimodal", None)
    assert text.model.language_only and not vision.model.language_only
    [parsed] = parse_with_vllm([serve_argv(files(text)["vllm/serve.sh"])])
    assert parsed["ok"] and parsed["namespace"]["language_model_only"] is True
    assert "--language-model-only" not in files(vision)["vllm/serve.sh"]
    # ... and the multimodal plan budgets the tower the text plan leaves out (gemma-3: 0.42B in 16 bits)
    parts = [{p.name: p.bytes for p in d.parts} for d in vision.memory.devices]
    assert parts[0]["vision_weights"] == round(0.42e9 * 2)
    assert not any(p.name == "vision_weights" for d in text.memory.devices for p in d.parts)
    assert vision.memory.devices[0].kv_cache_bytes < text.memory.devices[0].kv_cache_bytes


def test_a_gguf_runtime_is_not_a_candidate_for_images(catalog):
    """A GGUF's vision tower is a separate mmproj file the launchers do not fetch: llama.cpp would answer
    text only, so a multimodal deployment goes to a runtime that loads the checkpoint's tower."""
    plan = plan_for(catalog, "google/gemma-3-12b-it", "any [llama.cpp, vllm]", "multimodal", None,
                    gpu='    gpu = 1 x "RTX 4090"')
    assert plan.runtime.name == "vllm" and plan.model.source != "gguf"
    body = '  workload {\n    task = multimodal\n  }\n  model = "google/gemma-3-12b-it"\n  runtime = llama.cpp'
    plan, diagnostics = solve(deployment(spec_text('    gpu = 1 x "RTX 4090"', body=body)), catalog)
    assert plan is None and "mmproj" in json.dumps([d.model_dump(mode="json") for d in diagnostics]), diagnostics
