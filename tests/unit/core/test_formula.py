"""The safe formula language of bantime.formula / bantime.factor."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from banjail.core.formula import parse
from banjail.errors import ConfigError

FORMULAS = [
    "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor",
    "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)",
    "ban.Time * (2 ** ban.Count)",
    "ban.Time + ban.Count * 3600",
    "min(ban.Time * ban.Count * banFactor, 86400)",
    "max(ban.Time, 600) if ban.Count > 3 and banFactor >= 1 else ban.Time / 2",
    "ban.Time * math.log(ban.Count + 1) + math.sqrt(ban.Time)",
    "ban.Time * math.pow(2, ban.Count) // 3 % 100000",
    "-ban.Time + abs(-ban.Time) * round(banFactor * 1.5) + int(2.9) + (ban.Count >> 1)",
    "ban.Time if not ban.Count else ban.Time * math.floor(math.pi) + math.ceil(math.e)",
    "banTime * (1 << banCount)",
    "1 < ban.Count <= 3 or ban.Time == 0",
    "round(ban.Time / 7, 2)",
]


@pytest.mark.parametrize("text", FORMULAS)
@pytest.mark.parametrize(("time", "count", "factor"), [(600, 1, 1), (3600, 5, 2.5), (60, 25, 1), (1, 0, 0.5)])
def test_agrees_with_python(text: str, time: float, count: int, factor: float) -> None:
    ban = SimpleNamespace(Time=time, Count=count)
    namespace = {"ban": ban, "banFactor": factor, "banTime": time, "banCount": count, "math": math}
    expected = eval(
        text,
        {"__builtins__": {"min": min, "max": max, "abs": abs, "round": round, "int": int, "float": float}},
        namespace,
    )
    assert parse(text).evaluate(time=time, count=count, factor=factor) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('id')", "not allowed in a formula: the call \"__import__('os').system\""),
        ("ban.__class__", "not allowed in a formula: the name 'ban.__class__'"),
        ("ban.Time.real", "not allowed in a formula: the name 'ban.Time.real'"),
        ("open('/etc/passwd')", "not allowed in a formula: the call 'open'"),
        ("'a' * 3", "not allowed in a formula: the constant 'a'"),
        ("[1][0]", "not allowed in a formula: '[1][0]'"),
        ("(lambda: 1)()", "not allowed in a formula: the call 'lambda: 1'"),
        ("max(*[1, 2])", "not allowed in a formula: the arguments of 'max(*[1, 2])'"),
        ("round(1, ndigits=2)", "not allowed in a formula: the arguments of 'round(1, ndigits=2)'"),
        ("x + 1", "not allowed in a formula: the name 'x'"),
        ("ban.Time @ 2", "not allowed in a formula: the operator in 'ban.Time @ 2'"),
        ("ban.Time | 2", "not allowed in a formula: the operator in 'ban.Time | 2'"),
        ("1 in (1, 2)", "not allowed in a formula: the comparison in '1 in (1, 2)'"),
        ("True", "not allowed in a formula: the constant True"),
        ("math.system", "not allowed in a formula: the name 'math.system'"),
    ],
)
def test_rejects_what_is_not_arithmetic(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    problem = caught.value.problems[0]
    assert problem.message == message
    assert problem.option == "bantime.formula"
    assert problem.value == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ban.Time *", "syntax error: invalid syntax"),
        ("ban.Time * (1 +", "syntax error at column 12: '(' was never closed"),
        ("", "empty formula"),
        ("1" * 2001, "formula too long (over 2000 characters)"),
    ],
)
def test_reports_syntax_problems(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert caught.value.problems[0].message == message


@pytest.mark.parametrize(
    "text",
    [
        "1 << 100000",
        "ban.Time ** 100000",
        "(1 << 200) ** 200",
        "math.exp(100000)",
        "float(10 ** 400)",
        "1 / 0",
    ],
)
def test_unbounded_computations_fail_fast(text: str) -> None:
    formula = parse(text)
    with pytest.raises((ArithmeticError, ValueError)):
        formula.evaluate(time=600, count=1, factor=1)
