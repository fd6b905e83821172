from ..context import finding
from ..registry import rule


@rule("W832", "LCPP-SPLIT", "Row split mode",
      "llama.cpp PR#22729, #21730 (a maintainer calls -sm row deprecated); ggml-cuda.cu (row split exchanges "
      "partial results at every matmul)")
def split_row(server, ctx):
    mode = server.value("split_mode")
    if mode is None or (mode.text or "").lower() != "row":
        return
    yield finding("W832", "-sm row is slower than layer split on most multi-GPU hosts and is on its way out",
                  mode, label="row split",
                  detail="Row split exchanges partial results at every matrix multiplication, across PCIe on "
                         "most machines; layer split copies one hidden state per GPU boundary per step. "
                         "llama.cpp's maintainers call row split deprecated.",
                  help="use -sm layer (the default), or -sm tensor on NVLink machines with flash attention")
