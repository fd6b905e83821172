"""`llmc calibration show|fit|clear`: what the calibration store holds and what a build learns from it.

  show [PATH...]          the records (default: the stores a build in this directory reads), grouped by
                          runtime, device and model shape, each group with the correction fitted from it
  fit SPEC                per deployment: the records its build matches, the correction, and each run's
                          TTFT / TPOT measured beside the published fit's and the calibrated prediction
  clear [PATH] [--user]   remove records (those of one --runtime / --device only, when given) from the
                          project's store, the user's, or the files named
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..catalog.tables import text_table
from ..driver import EXIT_FAILED, EXIT_INPUT, EXIT_OK, compile_file
from ..estimate.calibration import FIGURES, Calibration, Key, Record, parse_line
from ..explain import factors_text
from ..smoke.store import Store, default_paths, project_dir, read_store, record_files, shown, user_dir
from ..text import count
from ..units import format_duration
from ._catalog_args import add_calibration_option, add_catalog_option, print_json
from ._report import emit, out


def register(sub) -> None:
    p = sub.add_parser("calibration", help="show, fit or clear the measured runs that builds learn from")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the records, grouped, with the correction each group fits")
    show.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                      help="record files or directories (default: the project's and the user's stores)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_show)
    fit = actions.add_parser("fit", help="what a build of SPEC learns: its matching runs and their errors")
    fit.add_argument("file", metavar="SPEC", help="a .llmspec file")
    add_catalog_option(fit)
    add_calibration_option(fit)
    fit.add_argument("--json", action="store_true", help="print JSON")
    fit.set_defaults(func=run_fit)
    clear = actions.add_parser("clear", help="remove records from a store")
    clear.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="record files or directories (default: the project's store above this directory)")
    clear.add_argument("--user", action="store_true", help="clear the user's store")
    clear.add_argument("--runtime", help="only the records of this runtime")
    clear.add_argument("--device", help="only the records of this device, as `show` names it")
    clear.set_defaults(func=run_clear)


def _read(paths: list[Path]) -> Store | None:
    try:
        return read_store(paths, Path.cwd())
    except (OSError, ValueError) as exc:
        out(f"llmc: cannot read the calibration records in {getattr(exc, 'filename', None) or paths}: {exc}\n",
            sys.stderr)
        return None


def groups(records: tuple[Record, ...]) -> dict[Key, list[Record]]:
    found: dict[Key, list[Record]] = {}
    for r in records:
        found.setdefault(r.key, []).append(r)
    return dict(sorted(found.items(), key=lambda kv: (kv[0].runtime, kv[0].device, kv[0].shape, kv[0].version)))


def run_show(args) -> int:
    paths = args.paths or default_paths(Path.cwd())
    store = _read(paths)
    if store is None:
        return EXIT_INPUT
    cal = store.calibration
    rows = []
    for key, records in groups(cal.records).items():
        fitted = Calibration(tuple(records)).correction(key)
        rows.append({**key.to_dict(), "runs": len(records), **_learned(fitted)})
    files = [{"file": shown(f, Path.cwd()), "skipped_lines": store.skipped.get(str(f), 0)} for f in store.files]
    if args.json:
        print_json({"files": files, "groups": rows})
        return EXIT_OK
    where = ", ".join(f["file"] for f in files) or "no record files"
    out(f"calibration records in {where} (read from {', '.join(shown(p.resolve(), Path.cwd()) for p in paths) or '-'})\n")
    for f in files:
        if f["skipped_lines"]:
            out(f"  {f['file']}: {count(f['skipped_lines'], 'line')} not a calibration record (kept, not used)\n")
    if not rows:
        out("no measured runs yet: `llmc smoke BUILD_DIR` records one; builds use the published fit\n")
        return EXIT_OK
    header = ("runtime", "version", "device", "shape", "runs", "bandwidth", "FLOPs", "mat-vec", "fixed", "buffers",
              "residual", "band")
    out(text_table(header, [(r["runtime"], r["version"], r["device"], r["shape"], r["runs"], f"×{r['bandwidth']:.2f}",
                             f"×{r['compute']:.2f}", f"×{r['vector']:.2f}", f"×{r['overhead']:.2f}",
                             f"×{r['compute_memory']:.2f}", f"{r['residual']:.0%}",
                             f"±{r['band']:.0%}") for r in rows]))
    return EXIT_OK


def run_fit(args) -> int:
    result = compile_file(args.file, args.catalog, calibration=args.calibration)
    plans = [item.plan for item in result.deployments if item.plan is not None]
    if not plans:
        emit(result.diagnostics, result.sources)
        return result.exit_code or EXIT_INPUT
    reports = [_fit_report(plan, result.calibration) for plan in plans]
    if args.json:
        print_json(reports)
        return EXIT_OK
    for report in reports:
        out(_fit_text(report))
    return EXIT_OK


def _fit_report(plan, cal: Calibration) -> dict:
    pc = plan.performance.calibration
    key = Key(**pc.key)
    level, records = cal.matching(key)
    fitted = cal.correction(key)
    runs = []
    for r in records:
        figures = {}
        for figure in FIGURES:
            seen, prior, now = r.measured.get(figure), r.predict(figure), r.predict(figure, fitted.factors)
            if seen and prior:
                figures[figure] = {"measured": seen, "prior": prior, "calibrated": now,
                                   "prior_error": prior / seen - 1, "calibrated_error": now / seen - 1}
        runs.append({"origin": r.origin, "key": r.key.to_dict(), "figures": figures})
    return {"deployment": plan.deployment, "key": key.to_dict(), "level": level, "runs": runs,
            "correction": _learned(fitted)}


REPORTED = ("bandwidth", "compute", "vector", "overhead", "compute_memory", "residual", "band")


def _learned(fitted) -> dict:
    """A fitted correction as `show` and `fit` report it."""
    return {f: getattr(fitted, f) for f in REPORTED}


def _fit_text(report: dict) -> str:
    key, c = report["key"], report["correction"]
    lines = [f"{report['deployment']}: {key['runtime']} {key['version']} on {key['device']}, {key['shape']}"]
    if not report["runs"]:
        lines.append(f"  no matching run: the published fit (band ±{c['band']:.0%})")
        return "\n".join(lines) + "\n\n"
    lines.append(f"  {count(len(report['runs']), 'run')} matching {report['level']}: "
                 f"{factors_text(c['bandwidth'], c['compute'], c['vector'], c['overhead'])}; residual {c['residual']:.0%}, "
                 f"band ±{c['band']:.0%}")
    for run in report["runs"]:
        lines.append(f"  - {run['origin']} ({run['key']['shape']}, {run['key']['version']})")
        for figure, f in run["figures"].items():
            lines.append(f"      {figure[:-2].upper():<5} measured {format_duration(f['measured'])}, published fit "
                         f"{format_duration(f['prior'])} ({f['prior_error']:+.0%}), calibrated "
                         f"{format_duration(f['calibrated'])} ({f['calibrated_error']:+.0%})")
    return "\n".join(lines) + "\n\n"


def run_clear(args) -> int:
    if args.paths:
        targets = args.paths
    elif args.user:
        targets = [user_dir()]
    else:
        found = project_dir(Path.cwd())
        if found is None:
            out("llmc: no .llmc/calibration/ here or above; name the files to clear, or --user for the user's "
                "store\n", sys.stderr)
            return EXIT_INPUT
        targets = [found]
    removed = 0
    try:
        for path in record_files([p for p in targets if p.exists()]):
            removed += _drop(path, args.runtime, args.device)
    except OSError as exc:
        out(f"llmc: cannot rewrite {exc.filename}: {exc.strerror}\n", sys.stderr)
        return EXIT_FAILED
    out(f"removed {count(removed, 'record')}\n")
    return EXIT_OK


def _drop(path: Path, runtime: str | None, device: str | None) -> int:
    """Rewrite `path` without the matching records (atomically, its mode kept); lines that are not records
    stay."""
    kept, removed = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True):
        record = parse_line(line)
        if record is not None and (runtime in (None, record.key.runtime)) and (device in (None, record.key.device)):
            removed += 1
        else:
            kept.append(line)
    if removed:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(kept)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    return removed
