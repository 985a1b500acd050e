"""The log-injection generator over every stock filter: no generated line may give a failure for a victim, and
every template's control (a genuine failure of the attacker) must be caught. The default option set runs
through the installed `fail2ban-regex --json` (the user's door), the filter's other option sets through the
engine API. The case count is printed in the terminal summary (conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import STOCK_FILTERS, stock_filter_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .generate import CONTROLS, GENERIC, Case, cases, cuts, render
from .run import Verdict, engine_api, fail2ban_regex, run_cases, uncovered_failregexes
from .services import load, module_name
from .spec import ATTACKER4, SYSLOG, VICTIMS

FAIL2BAN_REGEX = str(Path(sys.executable).parent / "fail2ban-regex")
SERVICES = Path(__file__).resolve().parent / "services"


def _explain(verdict: Verdict) -> str:
    lines = [f"options {verdict.options}:"]
    lines += [f"  victim {ident} from {c.template}/{c.field}/{c.family}: {c.lines[-1]!r}" for c, ident in
              verdict.hits[:8]]
    lines += [f"  control not caught {c.template}/{c.prefix}: {c.lines!r}" for c in verdict.missed[:8]]
    return "\n".join(lines)


def test_every_stock_filter_has_a_service_spec() -> None:
    specs = {p.stem for p in SERVICES.glob("*.py") if not p.stem.startswith("_")}
    missing = [name for name in stock_filter_names() if module_name(name) not in specs]
    assert missing == [], f"write tests/filters/injection/services/<name>.py (see spec.py) for: {missing}"
    assert {load(name).filter for name in stock_filter_names()} == set(stock_filter_names())


@pytest.mark.parametrize("name", stock_filter_names())
def test_generated_injections_never_yield_a_victim(
    name: str, empty_config_dir: Path, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    service = load(name)
    generated = list(cases(service))
    runs = 0
    problems = []
    for options in service.option_sets:
        if options:
            engine = engine_api(name, options, str(empty_config_dir))
        else:
            engine = fail2ban_regex(FAIL2BAN_REGEX, name, tmp_path, ["-c", str(empty_config_dir)])
        verdict = run_cases(generated, engine, options)
        runs += verdict.cases
        if verdict.hits or verdict.missed:
            problems.append(_explain(verdict))
    record_property("injection_cases", runs)
    assert problems == [], f"{name}: " + "\n".join(problems)
    assert any(c.control for c in generated) and len(generated) > len(service.templates)


@pytest.mark.parametrize("name", stock_filter_names())
def test_every_failregex_has_a_template(name: str, empty_config_dir: Path) -> None:
    """A failregex no control line matches is a line shape the generator never attacks: its service spec must
    have a template for it."""
    service = load(name)
    controls = [c for c in cases(service) if c.control]
    missing = {
        repr(options): uncovered
        for options in service.option_sets
        if (uncovered := uncovered_failregexes(name, options, str(empty_config_dir), controls))
    }
    assert missing == {}, f"add templates to services/{module_name(name)}.py for {missing}"


def test_the_generator_reaches_the_known_shapes() -> None:
    """The payload families hold the shapes that broke filters before (issue 9's illustrations)."""
    sshd = load("sshd")
    payloads = {c.lines[-1] for c in cases(sshd) if c.template == "failed-password" and c.victim == VICTIMS[0]}
    line = "Nov 25 08:44:15 web1 sshd[{pid}]: Failed password for invalid user x from 198.51.100.7 on from "
    assert any(p.startswith(line.split("[")[0]) and " x from 198.51.100.7 on from " in p for p in payloads)
    assert any("guest from 198.51.100.7 port 48741 ssh2 from " in p for p in payloads)
    assert cuts("a b:c") == ["a", "a ", "a b", "a b:", "a b:c"]
    assert render("{user} {A} {x}", {"user": "{A}", "A": "1"}) == "{A} 1 {x}"
    assert "\u2028" in CONTROLS and "\x85" in CONTROLS and "\r" in CONTROLS and "\n" not in CONTROLS
    assert "x from {V} port 22 ssh2:" in GENERIC


# ---- a property on top of the enumerated families: random compositions of their pieces ------------------------

_PIECES = st.sampled_from([*GENERIC, " ", ":", ",", "]", ")", ">", "'", '"', " port 22", " ssh2", " [preauth]",
                           *CONTROLS])


@st.composite
def _payload(draw: st.DrawFn) -> str:
    victim = draw(st.sampled_from(VICTIMS))
    return "".join(render(p, {"V": victim, "DASH": "x", "REV": "x"}) for p in draw(st.lists(_PIECES, max_size=4)))


@pytest.mark.parametrize("name", ["sshd", "dovecot", "exim", "courier-auth", "nginx-http-auth", "roundcube-auth"])
@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_compositions_never_yield_a_victim(name: str, empty_config_dir: Path, data: st.DataObject) -> None:
    service = load(name)
    template = data.draw(st.sampled_from([t for t in service.templates if t.fields]))
    field = data.draw(st.sampled_from(template.fields))
    payload = data.draw(_payload())
    prefix = (template.prefixes or service.prefixes)[0]
    values = {f.name: f.escape(f.default) for f in template.fields} | {field.name: field.escape(payload)}
    values |= {alias: esc(payload) for alias, esc in field.alias}
    values |= {"A": ATTACKER4, "pid": "4242", "port": "48741", "sess": "AbC", "ngx": "2026/11/25 08:44:15",
               "clf": "25/Nov/2026:08:44:15 +0000", "apache": "Wed Nov 25 08:44:15.123456 2026"}
    line = prefix.render(service.daemon, 4242) + prefix.transport(render(template.text, values))
    case = Case(template.name, field.name, "random", prefix.name, ATTACKER4, "*", (line,), False, ())
    for options in service.option_sets:
        verdict = run_cases([case], _engine(name, options, str(empty_config_dir)), options)
        assert verdict.hits == (), f"{name} {options}: {line!r}"


_ENGINES: dict[tuple[str, str, str], object] = {}


def _engine(name: str, options: dict[str, str], config_dir: str):  # type: ignore[no-untyped-def]
    key = (name, repr(sorted(options.items())), config_dir)
    if key not in _ENGINES:
        _ENGINES[key] = engine_api(name, options, config_dir)
    return _ENGINES[key]


def test_stock_filters_dir_is_the_one_the_engine_reads() -> None:
    assert (STOCK_FILTERS / "sshd.conf").is_file() and SYSLOG.name == "syslog"
