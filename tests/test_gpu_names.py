"""GPU names as users, shops and drivers write them resolve to the catalog's cards; near misses suggest the
same card first."""

from __future__ import annotations

import pytest

from llmc.catalog import load_catalog
from llmc.catalog.gpu_names import gpu_key

CATALOG, _ = load_catalog()


@pytest.mark.parametrize("written, card", [
    ("L40S 48GB", "L40S"),
    ("RTX 5090 32GB", "RTX 5090"),
    ("H100 80GB HBM3", "H100 SXM"),                  # nvidia-smi's name for the SXM board
    ("NVIDIA GeForce RTX 3090", "RTX 3090"),         # CUDA's device name
    ("RTX3090 24GB", "RTX 3090"),
    ("NVIDIA A100-SXM4-80GB", "A100 SXM 80GB"),
    ("geforce rtx 4070 ti SUPER", "RTX 4070 Ti Super"),
    ("rtx3060 12gb", "RTX 3060 12GB"),
])
def test_a_card_is_found_the_way_people_write_it(written, card):
    gpu = CATALOG.find_gpu(written)
    assert gpu is not None and gpu.name == card


@pytest.mark.parametrize("written, first", [
    ("RTX 4090 48GB", "RTX 4090"),          # a modded board: the size disagrees, so not the 24 GB card
    ("RTX 3060 8GB", "RTX 3060 12GB"),
    ("RTX 3099", "RTX 3090"),
])
def test_a_size_that_disagrees_is_not_that_card_but_suggests_it_first(written, first):
    assert CATALOG.find_gpu(written) is None
    assert CATALOG.gpu_suggestions(written)[0] == first


def test_the_memory_size_and_the_brand_words_are_not_part_of_the_key():
    assert gpu_key("NVIDIA GeForce RTX 4060 Ti 8GB") == ("rtx4060ti", 8)
    assert gpu_key("AMD Radeon RX 7900 XTX") == ("rx7900xtx", None)
    assert gpu_key("H100 80GB HBM3") == ("h100", 80)


def test_every_catalog_name_and_alias_finds_its_own_card():
    for gpu in [*CATALOG.gpus.values(), *CATALOG.cpu_hosts.values()]:
        for name in (gpu.name, *gpu.aliases):
            assert CATALOG.find_gpu(name) is gpu, name
