"""A safe evaluator for `bantime.formula` and `bantime.factor`: a small arithmetic language, never `eval`.

The text is parsed with the `ast` module and every node is checked against a fixed grammar before anything is
computed. Admitted:

* numbers (int, float); the names `banFactor`, `ban.Time`, `ban.Count` (and the aliases `banTime`, `banCount`);
  `math.e`, `math.pi`;
* unary `+ - not`, binary `+ - * / // % ** << >>`, comparisons, `and`/`or`, `x if cond else y`;
* calls of `min max abs round int float` and `math.exp log log2 log10 sqrt pow floor ceil`.

Everything else (other names, attributes, subscripts, strings, lambdas, comprehensions, keyword arguments...) is
rejected at parse time with a ConfigError naming the offending piece. Shifts and powers are bounded so no formula
can take unbounded time or memory.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from banjail.errors import ConfigError, Problem

Number = int | float

_MAX_SHIFT = 256
_MAX_EXPONENT = 1024
_MAX_BITS = 4096  # bound on integers built by << and **, so no formula can exhaust memory

_BINARY: Mapping[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE: Mapping[type[ast.cmpop], Callable[[Number, Number], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _round(x: Number, digits: Number = 0) -> Number:
    return round(x, int(digits)) if digits else round(x)


_FUNCTIONS: Mapping[str, Callable[..., Number]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "int": int,
    "float": float,
    "math.exp": math.exp,
    "math.log": math.log,
    "math.log2": math.log2,
    "math.log10": math.log10,
    "math.sqrt": math.sqrt,
    "math.pow": math.pow,
    "math.floor": math.floor,
    "math.ceil": math.ceil,
}
_CONSTANTS: Mapping[str, Number] = {"math.e": math.e, "math.pi": math.pi}
_VARIABLES = {
    "banFactor": "factor",
    "ban.Time": "time",
    "ban.Count": "count",
    "banTime": "time",
    "banCount": "count",
}


@dataclass(frozen=True, slots=True)
class Formula:
    """A checked formula; `evaluate(time=..., count=..., factor=...)` computes it (raises ArithmeticError/
    ValueError on a math domain error or overflow, which callers treat as "keep the base bantime")."""

    text: str
    tree: ast.Expression

    def evaluate(self, *, time: Number = 0, count: Number = 0, factor: Number = 1) -> Number:
        env = {"time": time, "count": count, "factor": factor}
        return _eval(self.tree.body, env)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _reject(text: str, option: str, what: str) -> ConfigError:
    return ConfigError(
        Problem(
            f"not allowed in a formula: {what}",
            option=option,
            value=text,
            fix="use numbers, ban.Time, ban.Count, banFactor, + - * / // % ** << >>, comparisons, "
            "x if c else y, min/max/abs/round/int/float and math.exp/log/sqrt/pow/floor/ceil",
        )
    )


def _check(node: ast.AST, text: str, option: str) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _reject(text, option, f"the constant {node.value!r}")
        return
    if isinstance(node, ast.Name | ast.Attribute):
        name = _dotted(node)
        if name is None or (name not in _VARIABLES and name not in _CONSTANTS):
            raise _reject(text, option, f"the name {ast.unparse(node)!r}")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.UAdd | ast.USub | ast.Not):
            raise _reject(text, option, f"the operator in {ast.unparse(node)!r}")
        _check(node.operand, text, option)
        return
    if isinstance(node, ast.BinOp):
        allowed = (*_BINARY, ast.Pow, ast.LShift, ast.RShift)
        if not isinstance(node.op, allowed):
            raise _reject(text, option, f"the operator in {ast.unparse(node)!r}")
        _check(node.left, text, option)
        _check(node.right, text, option)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, text, option)
        return
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise _reject(text, option, f"the comparison in {ast.unparse(node)!r}")
        for operand in (node.left, *node.comparators):
            _check(operand, text, option)
        return
    if isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, text, option)
        return
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name not in _FUNCTIONS:
            raise _reject(text, option, f"the call {ast.unparse(node.func)!r}")
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args) or not node.args:
            raise _reject(text, option, f"the arguments of {ast.unparse(node)!r}")
        for arg in node.args:
            _check(arg, text, option)
        return
    raise _reject(
        text, option, repr(ast.unparse(node)) if isinstance(node, ast.expr) else type(node).__name__
    )


def parse(text: str, option: str = "bantime.formula") -> Formula:
    """Parse and check `text`; raise ConfigError (naming `option`) if it is not in the admitted grammar."""
    source = text.strip()
    if not source:
        raise ConfigError(
            Problem("empty formula", option=option, fix="give an expression or remove the option")
        )
    if len(source) > 2000:
        raise ConfigError(Problem("formula too long (over 2000 characters)", option=option))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ConfigError(Problem(f"syntax error{where}: {exc.msg}", option=option, value=text)) from None
    _check(tree.body, text, option)
    return Formula(text=text, tree=tree)


def _number(value: object) -> Number:
    # bool is an int subclass; comparisons and `not` produce it and it computes as 0/1, as in Python.
    if isinstance(value, int | float):
        return value
    raise ValueError(f"not a number: {value!r}")  # unreachable for checked trees


def _eval(node: ast.expr, env: Mapping[str, Number]) -> Number:
    if isinstance(node, ast.Constant):
        return _number(node.value)
    if isinstance(node, ast.Name | ast.Attribute):
        name = _dotted(node)
        assert name is not None
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        return env[_VARIABLES[name]]
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.Not):
            return not operand
        return +operand
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, env)
        right = _eval(node.right, env)
        if isinstance(node.op, ast.LShift | ast.RShift):
            if not isinstance(left, int) or not isinstance(right, int):
                raise ValueError("shift operands must be integers")
            if not 0 <= right <= _MAX_SHIFT or left.bit_length() + right > _MAX_BITS:
                raise OverflowError(f"shift {left} by {right} out of range")
            return left << right if isinstance(node.op, ast.LShift) else left >> right
        if isinstance(node.op, ast.Pow):
            if abs(right) > _MAX_EXPONENT or (
                isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > _MAX_BITS
            ):
                raise OverflowError(f"power {left} ** {right} out of range")
            return float(left) ** right if isinstance(right, float) else left**right
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.BoolOp):
        result = _eval(node.values[0], env)
        for value in node.values[1:]:
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
            result = _eval(value, env)
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        assert name is not None
        return _number(_FUNCTIONS[name](*(_eval(arg, env) for arg in node.args)))
    raise ValueError(f"unchecked node {type(node).__name__}")  # unreachable for checked trees
