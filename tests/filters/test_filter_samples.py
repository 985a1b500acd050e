"""Every stock filter against its own annotated sample log (format: README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import stock_filter_names
from samplefile import SAMPLES, banjail_maker, check, load


@pytest.mark.parametrize("name", stock_filter_names())
def test_filter_has_samples(name: str) -> None:
    assert (SAMPLES / f"{name}.log").is_file(), f"no sample log tests/filters/samples/{name}.log"


@pytest.mark.parametrize("name", sorted(p.stem for p in SAMPLES.glob("*.log")))
def test_sample_expectations(name: str, empty_config_dir: Path) -> None:
    runs, problems = check(load(SAMPLES / f"{name}.log"), banjail_maker(str(empty_config_dir)))
    assert runs > 0
    assert problems == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# now: 2026-11-25T12:00:00\nNov 25 08:00:00 h sshd[1]: x\n", "log line without an expectation"),
        ("# now: 2026-11-25T12:00:00\n#> -\n#> -\nx\n", "two expectations in a row"),
        ("#> -\nx\n", "no '# now:' line"),
        (
            "# now: 2026-11-25T12:00:00\n#> 192.0.2.1 user\nx\n",
            "cannot read 'user' (want key=value or @time)",
        ),
        ("# now: 2026-11-25T12:00:00\n#> - extra\nx\n", "'-' takes nothing after it"),
    ],
)
def test_sample_format_errors(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.log"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load(path)
    assert str(info.value).endswith(message)
