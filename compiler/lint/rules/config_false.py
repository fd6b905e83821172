from ...runtimes.flags import flag_table
from ..context import finding
from ..registry import rule


@rule("W833", "VLLM-CONFIG-FALSE", "A `false` in a vLLM config file that vLLM drops",
      "vLLM 0.33 utils/argparse_utils.py load_config_file: `false` becomes `--no-KEY` only when that option "
      "exists (the enable/disable pairs have none), else nothing is passed")
def config_false(server, ctx):
    table = flag_table(server.runtime)
    for value in server.dropped:
        key = value.written.replace("_", "-")
        pair = f"--disable-{key.removeprefix('enable-')}" if key.startswith("enable-") else None
        fix = f"write `{pair[2:]}: true`" if pair and table and table.get(pair) else "remove it"
        yield finding("W833", f"`{value.written}: false` is dropped: vLLM {server.runtime.pin.version} has no "
                      f"`--no-{value.written}`, so the setting keeps its default", value, label="ignored",
                      detail="vLLM turns a YAML `false` into the option's `--no-` form only where the option has "
                             "one; for the others it passes nothing and says nothing.",
                      help=fix)
