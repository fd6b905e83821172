from ..container_gpu import names_release
from ..context import finding
from ..registry import rule


@rule("W837", "RUNTIME-VERSION", "Image of another release than the one llmc's rules describe",
      "llmc's runtime pins (llmc.runtimes: the flag tables and memory rules are those of one release)")
def version(server, ctx):
    v = server.version
    pin = server.runtime.pin
    if v is None or not v.text or v.symbolic or pin.version in v.text or not names_release(v.text):
        return   # a moving tag is W840's
    yield finding("W837", f"the image runs {server.runtime.name} {v.text}; llmc's flags and memory rules are "
                  f"{server.runtime.name} {pin.version}'s", v, label="another release",
                  detail="Defaults, flags and memory profiling change between releases (vLLM V0 and V1 profile "
                         "differently); findings about them may not hold for this one.",
                  help=f"pin {pin.image}:{pin.tag}" + (f" (or {pin.gpu_tag})" if pin.gpu_tag else ""))
