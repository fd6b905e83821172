from ..container_gpu import moving
from ..context import finding
from ..registry import rule


@rule("W840", "IMAGE-UNPINNED", "Runtime image without a pinned tag",
      "llmc's standard (image tags pinned); runtime defaults and flags change between releases (W837)")
def image_tag(server, ctx):
    c = server.container
    image = c.image if c is not None else None
    if image is None or not image.text or image.symbolic or "@sha256:" in image.text:
        return
    if not moving(image.text):
        return
    pin = server.runtime.pin
    yield finding("W840", f"`{image.text}` is not pinned: every pull may bring another {server.runtime.name} release",
                  image, label="moving tag", detail="Defaults, flags and memory use change between releases; the "
                  "deployment that passed review is not the one that starts next week.",
                  help=f"pin a release: {pin.image}:{pin.gpu_tag or pin.tag}")
