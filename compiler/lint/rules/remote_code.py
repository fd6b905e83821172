from ..context import finding
from ..registry import rule


@rule("W828", "SEC-REMOTE-CODE", "Remote code trusted without a pinned revision",
      "vllm PR#38319 (CVE-2026-4944); vLLM 0.33 engine/arg_utils.py:975-987 (--trust-remote-code, --revision, "
      "--code-revision)")
def remote_code(server, ctx):
    if not server.flag("trust_remote_code") or server.value("revision") or server.value("code_revision"):
        return
    yield finding("W828", "--trust-remote-code runs the repository's Python as it is on every start",
                  server.value("trust_remote_code"), label="unpinned code",
                  detail="Without a pinned revision, whoever can push to the model repository can run code on "
                         "this machine the next time it starts.",
                  help="pin --revision (and --code-revision) to a commit, or drop --trust-remote-code when the "
                       "runtime supports the architecture natively")
