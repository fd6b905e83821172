"""The E6xx diagnostics of `llmc smoke` (pages in docs/diagnostics/E6xx.md)."""

from __future__ import annotations

from ..diagnostics import define_code

MODULE = "llmc.smoke"
E601 = define_code("E601", "Build directory has no usable plan.json", MODULE)
E602 = define_code("E602", "No launchable artifact in the build directory", MODULE)
E603 = define_code("E603", "Server port in use or not available", MODULE)
E604 = define_code("E604", "Server exited during startup", MODULE)
E605 = define_code("E605", "Server not healthy before the deadline", MODULE)
E606 = define_code("E606", "Requests failed", MODULE)
E607 = define_code("E607", "Memory outside the predicted band", MODULE)
E608 = define_code("E608", "Latency target missed", MODULE)
E609 = define_code("E609", "Smoke run interrupted", MODULE)
E610 = define_code("E610", "Docker Compose not available", MODULE)
E611 = define_code("E611", "Runtime reported no memory figures", MODULE)
E612 = define_code("E612", "The build as planned did not pass a tune trial", MODULE)
