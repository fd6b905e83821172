from ..context import finding
from ..registry import rule


@rule("W831", "NCCL-TIMEOUT-NOOP", "NCCL_TIMEOUT is read by nothing",
      "vllm#45078, #5484; vLLM 0.33: no reader of NCCL_TIMEOUT; engine/arg_utils.py:1180 "
      "(--distributed-timeout-seconds, None: PyTorch's 600 s)")
def nccl_timeout(server, ctx):
    value = server.env.get("NCCL_TIMEOUT")
    if value is None:
        return
    knob = server.runtime.knob("distributed_timeout")
    yield finding("W831", "NCCL_TIMEOUT changes nothing: neither NCCL nor the runtime reads it", value,
                  label="no effect",
                  detail="The collective timeout is PyTorch's process-group timeout (600 s for NCCL).",
                  help=f"use {knob.flag} instead" if knob else "remove it")
