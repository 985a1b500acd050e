"""Log injection: text an attacker controls (user names, URLs, user agents, HELO names) must never make a filter
report an address the attacker wrote into it. Every sample log carries such lines with the reserved address
198.51.100.7; this test runs them alone, under every option set of their block, and wants no failure for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import stock_filter_names
from samplefile import INJECTED, SAMPLES, banjail_maker, load


@pytest.mark.parametrize("name", stock_filter_names())
def test_injected_address_never_yields_a_failure(name: str, empty_config_dir: Path) -> None:
    sample = load(SAMPLES / f"{name}.log")
    make = banjail_maker(str(empty_config_dir))
    tried = 0
    for block in sample.blocks:
        for args in block.options:
            process = make(name, args)
            for case in block.cases:
                seen = process(case.line, sample.now)
                if INJECTED in case.line:
                    tried += 1
                    assert [s for s in seen if INJECTED in (s[0], s[2].get("ip4"), s[2].get("ip6"))] == [], (
                        f"{name}.log:{case.lineno} {args}: {case.line}"
                    )
    assert tried > 0, f"{name}.log has no injection line carrying {INJECTED}"
