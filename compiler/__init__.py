"""llmc: a declarative deployment compiler for self-hosted LLMs."""

__version__ = "0.1.0"
