"""Maps the repository folders onto the single import package `llmc`.

compiler/ -> llmc, targets/ -> llmc.targets, grammar/ -> llmc.grammar and the
diagnostics pages in docs/diagnostics -> llmc.docs.diagnostics, so the wheel
never installs generic top-level `compiler` or `targets` packages.
"""
import os

from setuptools import setup

ROOTS = {"compiler": "llmc", "targets": "llmc.targets", "grammar": "llmc.grammar", "docs": "llmc.docs"}


def packages():
    found = {}
    for folder, name in ROOTS.items():
        for dirpath, dirnames, _ in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            rel = os.path.relpath(dirpath, folder)
            pkg = name if rel == "." else name + "." + rel.replace(os.sep, ".")
            found[pkg] = dirpath
    return found


PACKAGES = packages()
setup(packages=sorted(PACKAGES), package_dir=PACKAGES)
