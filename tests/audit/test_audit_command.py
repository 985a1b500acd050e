"""`banjail audit` and `fail2ban-regex --audit`, run as the installed commands.

- filters written to be injectable (tests/audit/filters/*.conf with `# expect:` lines): exit 1 and exactly the
  expected (failregex, field) findings, each with a line that really yields the victim in fail2ban-regex;
- filters written to be safe (safe-*.conf): exit 0, no finding;
- every stock filter (and its aggressive mode): no finding;
- usage and configuration errors: exit 255 with the message that says what to do.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FILTERS = HERE / "filters"
STOCK = HERE.parents[1] / "src" / "banjail" / "stock" / "filter.d"
BIN = Path(sys.executable).parent
VICTIM = "198.51.100.7"

def _run(*args: str, tool: str = "banjail", config: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / tool), *args]
    if config is not None:
        command[1:1] = ["-c", str(config)] if tool == "banjail" and args[0] != "audit" else []
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("etc-fail2ban-empty")


def _audit(empty: Path, *args: str) -> tuple[int, dict[str, object]]:
    done = _run("audit", "-c", str(empty), "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _expected(path: Path) -> set[tuple[int, str]]:
    found = set()
    for m in re.finditer(r"(?m)^# expect: failregex (\d+) (\S+)$", path.read_text()):
        found.add((int(m.group(1)), m.group(2)))
    return found


INJECTABLE = sorted(p.name for p in FILTERS.glob("*.conf") if not p.name.startswith("safe-"))
SAFE = sorted(p.name for p in FILTERS.glob("safe-*.conf"))


@pytest.mark.parametrize("name", INJECTABLE)
def test_injectable_filter_is_found(name: str, empty: Path) -> None:
    path = FILTERS / name
    status, report = _audit(empty, str(path))
    findings = report["findings"]
    assert isinstance(findings, list)
    assert status == 1
    assert {(f["regex"], f["field"]) for f in findings} == _expected(path)
    for finding in findings:
        assert finding["victim"] in (VICTIM, "2001:db8:ffff::7")
        # the example line, given to fail2ban-regex with the same filter, yields the victim
        dateless = ("-d", "{NONE}") if finding["source"] == "generated" else ()
        done = _run(*dateless, finding["line"], str(path), "--json", tool="fail2ban-regex")
        ids = {json.loads(row)["id"] for row in done.stdout.splitlines()}
        assert finding["victim"] in ids, (finding, done.stdout, done.stderr)


@pytest.mark.parametrize("name", SAFE)
def test_safe_filter_has_no_finding(name: str, empty: Path) -> None:
    status, report = _audit(empty, str(FILTERS / name))
    assert (status, report["findings"], report["unaudited"]) == (0, [], [])
    assert isinstance(report["cases"], int) and report["cases"] > 100


def _stock_variants() -> list[str]:
    names: list[str] = []
    for path in sorted(STOCK.glob("*.conf")):
        if path.stem == "common" or path.stem.endswith("-common"):
            continue
        names.append(path.stem)
        if re.search(r"(?m)^(?:mode|mdre)-aggressive\s*=", path.read_text()):
            names.append(f"{path.stem}[mode=aggressive]")
    return [*names, "sshd[publickey=any]"]


@pytest.mark.parametrize("spec", _stock_variants())
def test_stock_filter_has_no_finding(spec: str, empty: Path) -> None:
    status, report = _audit(empty, spec)
    assert report["unaudited"] == []
    assert [(f["regex"], f["field"], f["line"]) for f in report["findings"]] == []  # type: ignore[union-attr]
    assert status == 0


def test_text_report_and_exit_status(empty: Path) -> None:
    done = _run("audit", "-c", str(empty), str(FILTERS / "lazy-user.conf"))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"Audit of filter {FILTERS / 'lazy-user.conf'} ({FILTERS / 'lazy-user.conf'})"
    assert "FINDING 1: failregex 0 captures 198.51.100.7 (a failure)" in lines
    assert "  failregex 0: ^Login failed for <F-USER>.*?</F-USER> from <HOST>" in lines
    assert "  line: Login failed for x from 198.51.100.7 from 2001:db8::66" in lines
    assert "  (written without a date: try it with fail2ban-regex -d '{NONE}' LINE FILTER)" in lines
    assert lines[-1] == "1 finding(s): a client can aim this filter at an address (exit 1)."
    safe = _run("audit", "-c", str(empty), str(FILTERS / "safe-anchored.conf"))
    assert (safe.returncode, safe.stdout.splitlines()[-1]) == (
        0,
        "No finding: no payload made this filter capture a victim address.",
    )


def test_fail2ban_regex_audit_with_a_log(empty: Path, tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(
        "Nov 25 08:44:15 h app[1]: Login failed for root from 192.0.2.9\n"
        "Nov 25 08:44:16 h app[1]: something else\n"
    )
    filt = tmp_path / "app.conf"
    filt.write_text("[Definition]\nfailregex = Login failed for <F-USER>.*?</F-USER> from <HOST>\n")
    done = _run("--audit", "-c", str(empty), "--json", str(log), str(filt), tool="fail2ban-regex")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["lines"] == {"log": 1, "sample": 0, "generated": 3}
    assert [(f["regex"], f["field"]) for f in report["findings"]] == [(0, "<F-USER>")]
    audited = _run("audit", "-c", str(empty), "--json", "--log", str(log), str(filt))
    assert json.loads(audited.stdout) == report  # the same audit as `banjail audit --log LOG FILTER`


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "ERROR: the following arguments are required: FILTER"),
        (
            ("nosuch",),
            "ERROR: no filter 'nosuch' in {empty}/filter.d nor in banjail's stock filters; give a "
            "filter name, a filter file path or a failregex (quote it)",
        ),
        (
            ("--log", "/nonexistent/x.log", "sshd"),
            "ERROR: cannot read log file /nonexistent/x.log: No such file "
            "or directory; give a readable file with --log",
        ),
        (
            ("^no id here$",),
            "ERROR: failregex = '^no id here$': line 1: no failure-id group (capture the address "
            "with <HOST> or <ADDR>, or an id with <F-ID>...</F-ID>)",
        ),
    ],
)
def test_usage_and_config_errors(args: tuple[str, ...], message: str, empty: Path) -> None:
    done = _run("audit", "-c", str(empty), *args)
    assert done.returncode == 255
    assert done.stdout == ""
    assert message.format(empty=empty) in done.stderr
