"""Run the log-injection generator over another filter tree and print victim hits per filter: a report, not a
test. Each filter is read by banjail's engine (the compat suite checks that it reads upstream's filters as
fail2ban does) under every option set of its service spec; options a filter does not know are reported.

    .venv/bin/python -m tests.filters.injection.report --filter-dir /etc/fail2ban/filter.d
    .venv/bin/python -m tests.filters.injection.report                      # banjail's stock tree

A filter is read by name, as the daemon reads it: fail2ban's unmodified packaged files in the tree give way to
banjail's filter of the same name (banjail.config.packaged). To measure the files themselves, run with
BANJAIL_DPKG_STATUS=/dev/null (no dpkg record: nothing counts as packaged).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .generate import cases
from .run import engine_api, run_cases
from .services import load

SERVICES = Path(__file__).resolve().parent / "services"


def spec_names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in SERVICES.glob("*.py") if not p.stem.startswith("_"))


def report(filter_dir: Path | None, names: list[str], out: list[str]) -> int:
    """Append one row per filter to `out`; return the total of victim hits."""
    with tempfile.TemporaryDirectory(prefix="injection-report-") as config:
        return _report(filter_dir, names, out, Path(config))


def _report(filter_dir: Path | None, names: list[str], out: list[str], config: Path) -> int:
    if filter_dir is not None:
        os.symlink(filter_dir.resolve(), config / "filter.d")
    out.append(f"{'filter':<20} {'cases':>7} {'hits':>6} {'missed':>6}  worst templates (hits)")
    total_cases = total_hits = 0
    for name in names:
        if filter_dir is not None and not (filter_dir / f"{name}.conf").is_file():
            out.append(f"{name:<20} {'-':>7} {'-':>6} {'-':>6}  (no such filter in {filter_dir})")
            continue
        service = load(name)
        generated = list(cases(service))
        ncases = hits = missed = 0
        worst: Counter[str] = Counter()
        notes = []
        for options in service.option_sets:
            try:
                verdict = run_cases(generated, engine_api(name, options, str(config)), options)
            except Exception as exc:  # an option the filter does not know, a regex banjail cannot compile
                notes.append(f"{options or 'defaults'}: {str(exc).splitlines()[0][:80]}")
                continue
            ncases += verdict.cases
            hits += len(verdict.hits)
            missed += len(verdict.missed)
            worst.update(case.template for case, _ in verdict.hits)
        total_cases += ncases
        total_hits += hits
        top = ", ".join(f"{t} ({n})" for t, n in worst.most_common(4))
        out.append(f"{name:<20} {ncases:>7} {hits:>6} {missed:>6}  {top}{'; ' if top and notes else ''}"
                   f"{'; '.join(notes)}")
    out.append(f"{'TOTAL':<20} {total_cases:>7} {total_hits:>6}")
    return total_hits


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.filters.injection.report", description=__doc__)
    parser.add_argument("--filter-dir", type=Path, help="a filter.d directory (default: banjail's stock tree)")
    parser.add_argument("names", nargs="*", help="filters to run (default: every filter with a service spec)")
    args = parser.parse_args(argv)
    os.environ["TZ"] = "UTC"
    time.tzset()
    out: list[str] = []
    started = time.monotonic()
    report(args.filter_dir, args.names or spec_names(), out)
    print("\n".join(out))
    print(f"({time.monotonic() - started:.1f} s; missed = controls, genuine failures of the attacker, not caught)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
