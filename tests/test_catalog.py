"""The built-in catalog: every record validates and names its source, the data agrees with its evidence
(the verbatim config.json copies in shared/reference/catalog/raw_configs), and lookups behave."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import pytest

from llmc.catalog import license_allows, model_tasks
from llmc.catalog.params import param_counts

# Verbatim config.json copies (ai-dynamo/aiconfigurator@095f58a5 model_configs, via shared/reference/catalog/raw_configs)
RAW_CONFIGS = Path(__file__).parent / "data" / "hf_configs"
# The rows of shared/reference/catalog/{models,gpus}.yaml that the issue requires at least.
REFERENCE_MODELS = (
    "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct", "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
    "Qwen/Qwen2.5-Coder-32B-Instruct", "Qwen/Qwen3-8B", "Qwen/Qwen3-32B", "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-Next-80B-A3B-Instruct", "Qwen/Qwen3.5-397B-A17B", "Qwen/Qwen3.5-122B-A10B",
    "Qwen/Qwen3.5-35B-A3B", "Qwen/Qwen3.5-27B", "google/gemma-3-1b-it", "google/gemma-3-4b-it",
    "google/gemma-3-12b-it", "google/gemma-3-27b-it", "microsoft/phi-4", "microsoft/Phi-4-mini-instruct",
    "mistralai/Mistral-Small-3.1-24B-Instruct-2503", "mistralai/Mixtral-8x22B-v0.1", "deepseek-ai/DeepSeek-V3",
    "deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V3.2", "deepseek-ai/DeepSeek-R1", "zai-org/GLM-4.5",
    "zai-org/GLM-4.5-Air", "zai-org/GLM-5", "moonshotai/Kimi-K2-Instruct", "moonshotai/Kimi-K2.5",
    "MiniMaxAI/MiniMax-M2", "MiniMaxAI/MiniMax-M2.5", "stepfun-ai/Step-3.5-Flash", "openai/gpt-oss-120b",
    "openai/gpt-oss-20b", "meta-llama/Llama-3.2-1B-Instruct",
)
REFERENCE_GPUS = (
    "A100 SXM 80GB", "A100 PCIe 80GB", "A100 SXM 40GB", "H100 SXM", "H100 PCIe", "H200 SXM", "B200 SXM",
    "GB200 (per GPU)", "L40S", "L4", "RTX PRO 6000 Blackwell (Server Edition)", "A10G", "RTX A6000", "RTX 6000 Ada",
    "RTX 3060 12GB", "RTX 3090", "RTX 4060 Ti 16GB", "RTX 4070 Ti Super", "RTX 4080 Super", "RTX 4090", "RTX 5080",
    "RTX 5090", "AMD Instinct MI300X", "NVIDIA DGX Spark (GB10)", "Apple M3 Max", "Apple M4 Max",
)

# raw_configs file -> catalog model id (the config is the evidence for that row)
RAW_TO_MODEL = {
    "MiniMaxAI--MiniMax-M2.5.json": "MiniMaxAI/MiniMax-M2.5",
    "Qwen--Qwen3-235B-A22B.json": "Qwen/Qwen3-235B-A22B",
    "Qwen--Qwen3-30B-A3B.json": "Qwen/Qwen3-30B-A3B",
    "Qwen--Qwen3-32B.json": "Qwen/Qwen3-32B",
    "Qwen--Qwen3-8B.json": "Qwen/Qwen3-8B",
    "Qwen--Qwen3.5-122B-A10B.json": "Qwen/Qwen3.5-122B-A10B",
    "Qwen--Qwen3.5-27B.json": "Qwen/Qwen3.5-27B",
    "Qwen--Qwen3.5-35B-A3B.json": "Qwen/Qwen3.5-35B-A3B",
    "Qwen--Qwen3.5-397B-A17B.json": "Qwen/Qwen3.5-397B-A17B",
    "deepseek-ai--DeepSeek-R1.json": "deepseek-ai/DeepSeek-R1",
    "deepseek-ai--DeepSeek-V3.2.json": "deepseek-ai/DeepSeek-V3.2",
    "deepseek-ai--DeepSeek-V3.json": "deepseek-ai/DeepSeek-V3",
    "meta-llama--Llama-4-Maverick-17B-128E-Instruct.json": "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
    "meta-llama--Llama-4-Scout-17B-16E-Instruct.json": "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    "meta-llama--Meta-Llama-3.1-70B.json": "meta-llama/Llama-3.1-70B-Instruct",
    "meta-llama--Meta-Llama-3.1-8B.json": "meta-llama/Llama-3.1-8B-Instruct",
    "mistralai--Mixtral-8x22B-v0.1.json": "mistralai/Mixtral-8x22B-v0.1",
    "moonshotai--Kimi-K2-Instruct.json": "moonshotai/Kimi-K2-Instruct",
    "moonshotai--Kimi-K2.5.json": "moonshotai/Kimi-K2.5",
    "nvidia--DeepSeek-V3.1-NVFP4.json": "deepseek-ai/DeepSeek-V3.1",
    "openai--gpt-oss-120b.json": "openai/gpt-oss-120b",
    "openai--gpt-oss-20b.json": "openai/gpt-oss-20b",
    "zai-org--GLM-5.json": "zai-org/GLM-5",
}
HF_LAYER = {"full_attention": "full", "sliding_attention": "sliding", "linear_attention": "linear"}


def raw_config(name: str) -> dict:
    config = json.loads((RAW_CONFIGS / name).read_text())
    return {**config, **config.get("text_config", {})}


# ---------------------------------------------------------------- records and sources

def test_minimum_counts_hold(catalog):
    assert len(catalog.models) >= 38
    assert len([g for g in catalog.gpus.values() if g.kind == "gpu"]) >= 26
    assert {"vllm", "llama.cpp", "ollama", "sglang"} <= set(catalog.runtimes)


def test_every_record_names_a_source(catalog):
    records = [*catalog.models.values(), *catalog.gpus.values(), *catalog.cpu_hosts.values(),
               *catalog.formats.values(), *catalog.kv_types.values(), *catalog.runtimes.values(),
               *catalog.ggml_types.values()]
    for record in records:
        assert record.source and all(len(s.strip()) > 10 for s in record.source), record


def test_every_reference_model_and_gpu_is_in_the_catalog(catalog):
    for model_id in REFERENCE_MODELS:
        assert model_id in catalog.models, model_id
    for name in REFERENCE_GPUS:
        assert catalog.find_gpu(name) or catalog.find_gpu(name.split(" (")[0]), name


def test_model_ids_are_hf_ids(catalog):
    for model_id, model in catalog.models.items():
        assert model.id == model_id and model_id.count("/") == 1, model_id


def test_cpu_only_host_is_a_device_kind_with_bandwidth(catalog):
    host = catalog.cpu_host
    assert host.kind == "cpu" and host.compute_capability is None
    assert 20 < host.bandwidth_gbps < 500 and host.memory_bytes > 0
    assert catalog.find_gpu("none") is host


def test_cross_references_resolve(catalog):
    runtimes = set(catalog.runtimes)
    families = {f.family for f in catalog.formats.values()}
    for fmt in catalog.formats.values():
        assert set(fmt.runtimes) <= runtimes, fmt.id
        for rule in fmt.rules:
            assert rule.type in catalog.ggml_types or rule.type in catalog.formats, (fmt.id, rule.type)
    for runtime in catalog.runtimes.values():
        assert set(runtime.kv_types) <= set(catalog.kv_types), runtime.name
        assert set(runtime.formats) <= families, runtime.name
    for kv in catalog.kv_types.values():
        assert set(kv.runtimes) <= runtimes, kv.id
    for model in catalog.models.values():
        assert model.native_format in catalog.formats, model.id
        for variant in model.variants:
            assert variant.format in catalog.formats, (model.id, variant.format)


# ---------------------------------------------------------------- the data agrees with its evidence

@pytest.mark.parametrize("raw_name", sorted(RAW_TO_MODEL))
def test_model_matches_its_config_json(catalog, raw_name):
    config, model = raw_config(raw_name), catalog.models[RAW_TO_MODEL[raw_name]]
    assert model.n_layers == config["num_hidden_layers"]
    assert model.hidden_size == config["hidden_size"]
    assert model.n_heads == config["num_attention_heads"]
    assert model.n_kv_heads == config["num_key_value_heads"]
    assert model.vocab_size == config["vocab_size"]
    experts = config.get("num_experts") or config.get("num_local_experts") or config.get("n_routed_experts")
    assert (model.moe.num_experts if model.moe else None) == experts
    if experts:
        assert model.moe.experts_per_token == config["num_experts_per_tok"]
        width = config.get("moe_intermediate_size") or config["intermediate_size"]
        assert model.moe.expert_intermediate_size == width
        assert model.moe.shared_experts == (config.get("n_shared_experts")
                                            or (1 if config.get("shared_expert_intermediate_size") else 0)
                                            or model.moe.shared_experts)
        assert model.moe.first_dense_layers == config.get("first_k_dense_replace", 0)
    if config.get("kv_lora_rank"):
        mla = model.attention.mla
        assert (mla.kv_lora_rank, mla.qk_rope_head_dim, mla.qk_nope_head_dim, mla.v_head_dim, mla.q_lora_rank) == (
            config["kv_lora_rank"], config["qk_rope_head_dim"], config["qk_nope_head_dim"], config["v_head_dim"],
            config["q_lora_rank"])
    elif config.get("head_dim"):
        assert model.head_dim == config["head_dim"]
    if config.get("linear_num_value_heads"):
        lin = model.attention.linear
        assert (lin.num_k_heads, lin.num_v_heads, lin.head_k_dim, lin.head_v_dim) == (
            config["linear_num_key_heads"], config["linear_num_value_heads"], config["linear_key_head_dim"],
            config["linear_value_head_dim"])
        assert lin.ssm_state_bits == (32 if config.get("mamba_ssm_dtype") == "float32" else 16)
        assert model.attention.output_gate == config["attn_output_gate"]


@pytest.mark.parametrize("raw_name", sorted(n for n in RAW_TO_MODEL if "layer_types" in raw_config(n)))
def test_layer_pattern_matches_layer_types(catalog, raw_name):
    config, model = raw_config(raw_name), catalog.models[RAW_TO_MODEL[raw_name]]
    assert list(model.layer_kinds()) == [HF_LAYER[t] for t in config["layer_types"]][: model.n_layers]
    if "sliding" in model.layer_kinds():
        assert model.attention.sliding_window == config["sliding_window"]


def test_native_low_precision_checkpoints(catalog):
    quant = {name: raw_config(name).get("quantization_config") or json.loads((RAW_CONFIGS / name).read_text()).get(
        "quantization_config") for name in RAW_TO_MODEL}
    expected = {"fp8": "fp8", "mxfp4": "mxfp4", "compressed-tensors": "int4"}
    for name, q in quant.items():
        model = catalog.models[RAW_TO_MODEL[name]]
        if q and name != "nvidia--DeepSeek-V3.1-NVFP4.json":
            assert model.native_format == expected[q["quant_method"]], model.id


def test_computed_parameter_counts_match_every_published_total(catalog):
    checked = 0
    for model in catalog.models.values():
        if model.published_total_b is None:
            continue
        total, _ = param_counts(model)
        computed = total / 1e9 + (model.vision_params_b or 0)
        assert computed == pytest.approx(model.published_total_b, rel=0.02), (model.id, computed)
        checked += 1
    assert checked >= 30


def test_ggml_block_types_match_gguf_py(catalog):
    for ggml_type in catalog.ggml_types.values():
        block, size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[ggml_type.id.upper()]]
        assert (ggml_type.block_size, ggml_type.type_size) == (block, size), ggml_type.id
    assert catalog.ggml_types["q4_k"].bits_per_weight == 4.5
    assert catalog.ggml_types["q6_k"].bits_per_weight == 6.5625


@pytest.mark.parametrize("fmt,base", [("q4_k_m", "q4_k"), ("q5_k_m", "q5_k"), ("q3_k_m", "q3_k"), ("q8_0", "q8_0"),
                                      ("q6_k", "q6_k"), ("q4_0", "q4_0"), ("iq4_xs", "iq4_xs"), ("q2_k", "q2_k")])
def test_gguf_mix_bits_are_those_of_the_base_block_type(catalog, fmt, base):
    assert catalog.formats[fmt].bits_per_weight == catalog.ggml_types[base].bits_per_weight


def test_hardware_acceleration_thresholds(catalog):
    assert catalog.formats["fp8"].min_compute_capability == 8.9
    assert catalog.formats["nvfp4"].min_compute_capability == 10.0
    ada, ampere, blackwell = (catalog.find_gpu(n) for n in ("RTX 4090", "A100", "RTX 5090"))
    assert ada.compute_capability >= 8.9 > ampere.compute_capability
    assert blackwell.compute_capability >= catalog.formats["nvfp4"].min_compute_capability


def test_quality_loss_figures_come_from_the_seed_table(catalog):
    assert catalog.formats["q4_k_m"].ppl_increase_pct == 2.7
    assert catalog.formats["awq"].ppl_increase_pct == 4.3
    assert catalog.formats["gptq"].ppl_increase_pct == 5.2
    assert catalog.formats["q3_k_m"].ppl_increase_pct == 13.6
    for fmt in catalog.formats.values():
        if fmt.ppl_increase_pct:
            assert fmt.quality_source and "seed" in fmt.quality_source


# ---------------------------------------------------------------- lookups

@pytest.mark.parametrize("spelling", ["RTX 4090", "rtx4090", "4090", "GeForce RTX 4090", "NVIDIA GeForce RTX 4090",
                                      "rtx-4090", "Rtx 4090"])
def test_gpu_names_match_case_and_punctuation_insensitively(catalog, spelling):
    assert catalog.find_gpu(spelling).name == "RTX 4090"


@pytest.mark.parametrize("nvml_name,name", [("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA A100-SXM4-80GB", "A100 SXM 80GB"),
                                            ("NVIDIA L40S", "L40S"), ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada")])
def test_gpu_names_as_nvml_reports_them(catalog, nvml_name, name):
    assert catalog.find_gpu(nvml_name).name == name


def test_unknown_gpu_gets_suggestions(catalog):
    assert catalog.find_gpu("RTX 4900") is None
    assert "RTX 4090" in catalog.gpu_suggestions("RTX 4900")
    assert "H100 SXM" in catalog.gpu_suggestions("H10")
    assert catalog.gpu_suggestions("zzzz-qqqq") == []


def test_find_model_by_id_name_or_case(catalog):
    assert catalog.find_model("Qwen/Qwen3-8B").id == "Qwen/Qwen3-8B"
    assert catalog.find_model("qwen3-8b").id == "Qwen/Qwen3-8B"
    assert catalog.find_model("gpt-oss-20b").id == "openai/gpt-oss-20b"
    assert catalog.find_model("no/such-model") is None
    assert "Qwen/Qwen3-8B" in catalog.model_suggestions("Qwen3-8")


def test_licenses_and_tasks(catalog):
    llama, qwen, gemma = (catalog.models[i] for i in ("meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-8B",
                                                       "google/gemma-3-4b-it"))
    assert license_allows(qwen, ["permissive"]) and not license_allows(llama, ["permissive"])
    assert license_allows(llama, ["commercial"]) and license_allows(gemma, ["commercial"])
    assert license_allows(llama, ["llama3.1"]) and not license_allows(llama, ["mit"])
    assert "multimodal" in model_tasks(gemma) and "multimodal" not in model_tasks(qwen)
    assert "long-context" in model_tasks(llama) and "long-context" not in model_tasks(qwen)


def test_small_draft_and_test_models_exist(catalog):
    for model_id in ("Qwen/Qwen3-0.6B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B", "google/gemma-3-270m-it",
                     "meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct"):
        assert model_id in catalog.models
    gemma = catalog.models["google/gemma-3-270m-it"]
    assert gemma.layer_kinds().count("full") == 3 and gemma.attention.sliding_window == 512


def test_every_catalog_code_has_a_docs_page():
    import llmc.catalog.local  # noqa: F401  (defines E305-E307)
    import llmc.commands.detect  # noqa: F401  (defines W308)
    from llmc.diagnostics import CODES

    docs = Path(__file__).resolve().parents[1] / "docs" / "diagnostics"
    for code in ("E301", "E302", "E303", "E304", "E305", "E306", "E307", "W308"):
        assert code in CODES
        text = (docs / f"{code}.md").read_text()
        assert text.startswith(f"# {code}: {CODES[code].title}\n")
        for section in ("## What", "## Why", "## Example", "## Fix"):
            assert section in text, (code, section)


def test_yaml_cache_follows_the_file_content(tmp_path, monkeypatch):
    from llmc.catalog import yamlcache

    monkeypatch.setenv("LLMC_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "x.yaml"
    path.write_text("gpus: [{name: A}]\n")
    assert yamlcache.load(path) == {"gpus": [{"name": "A"}]}
    cached = list((tmp_path / "cache" / "yaml").glob("*.json"))
    assert len(cached) == 1
    path.write_text("gpus: [{name: B}]\n")
    assert yamlcache.load(path) == {"gpus": [{"name": "B"}]}
    cached[0].write_text("{not json")
    path.write_text("gpus: [{name: A}]\n")
    assert yamlcache.load(path) == {"gpus": [{"name": "A"}]}


def test_every_model_has_a_checkpoint_a_runtime_can_load(catalog):
    """A model without a variant could never be built (Qwen3-14B had none): each names a real repo, and the
    repo's format is one some runtime loads."""
    for model in catalog.models.values():
        assert model.variants, model.id
        assert any(catalog.formats[v.format].runtimes for v in model.variants), model.id
