"""Options shared by the commands that read the catalog (--catalog DIR, --json) and the calibration store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..catalog import Catalog, load_catalog
from ._report import emit


def add_catalog_option(parser) -> None:
    parser.add_argument("--catalog", metavar="DIR", action="append", default=[], type=Path,
                        help="a directory of YAML records merged over the built-in catalog (repeatable; also LLMC_CATALOG)")


def add_calibration_option(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--calibration", metavar="PATH", action="append", default=None,
                       help="learn from the measured runs in this JSON-lines file or directory instead of the "
                            "project's .llmc/calibration/ and the user's store (repeatable)")
    group.add_argument("--no-calibration", dest="calibration", action="store_const", const=[],
                       help="predict from the published fit alone, ignoring any measured runs")


def add_catalog_options(parser) -> None:
    add_catalog_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def open_catalog(args) -> Catalog | None:
    """The merged catalog; catalog errors are printed (file and record named) and the broken records skipped."""
    catalog, diagnostics = load_catalog(args.catalog)
    if diagnostics:
        emit(diagnostics, {}, "full")
    return catalog


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
