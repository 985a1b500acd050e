"""Date templates: fail2ban's default set and `datepattern` lines turned into regexes that find a date in a line.

A template's regex has the date text as group 1, bounded so that it does not start or end inside a word (or, in the
line-begin form, starts the line after at most two non-word characters). Templates are immutable and shared by
detectors (cached by their datepattern text); banjail.filter.datedetect chooses among them per line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from banjail.errors import Problem, RegexError
from banjail.filter.strptime import translate

LINE_BEGIN, LINE_END = 8, 4  # flags: the template only matches at line start / line end

@dataclass(frozen=True, slots=True)
class Template:
    """A date template: display name as fail2ban-regex prints it, the regex that finds it (group 1 spans the
    text to cut), and whether it only matches at line start (so a caller may run it with re.MULTILINE over many
    lines to count hits; the up to two non-word characters allowed before the date may then include the newline
    of a line that is empty or holds one such character)."""

    name: str
    regex: re.Pattern[str]
    anchored: bool



# --- building templates from datepattern text --------------------------------------------------------------

# The first inline flag group, anywhere: it is moved to the front after the regex was wrapped.
_GLOBAL_FLAGS = re.compile(r"\(\?[a-z]+\)")
# A regex that begins at line start ("^", "(^", "(?:^") or with the "no boundary" mark "**" needs no word bound.
_OPEN_BEGIN = re.compile(r"\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\(\^|\(\?:\^)")
# Nor one that ends with "$", "$)", "\b", "\s" or "**" (followed by closing parentheses).
_OPEN_END = re.compile(r"(?<!\\)(?:\$|\$\)|\\b|\\s|\*\*\)*)$")
# A capturing group: "(" not escaped, not "(?...", not the condition of "(?(id)...)".
_CAPTURING = re.compile(r"(?<!\(\?)(?<!\\)\((?!\?)")
# Leading flags and "^", body, trailing "$": the body becomes group 1 when the regex has no group of its own.
_BODY = re.compile(r"^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$")
_ANCHOR_BEGIN = re.compile(r"^(?:\(\?\w+\))?(?:\^|\(\^(?!\|)|\(\?:\^(?!\|))")
_ANCHOR_END = re.compile(r"(?<![\\|])(?:\$|\$\))$")
_STARS = re.compile(r"^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$")
# Neither side of the date is in the middle of a word (date texts are never empty, so this is fail2ban's bound).
_NOT_IN_WORD = r"(?!(?<=\w)\w)"
_LINE_START = r"^\W{0,2}"  # at line start, after at most two non-word characters ("[", "<", "##" ...)

_EPOCH_SLOT = re.compile(r"(?<!\\)\{L?EPOCH\}", re.IGNORECASE)
_DATE_SLOT = re.compile(r"(?<!\\)\{DATE\}", re.IGNORECASE)
_EPOCH = r"\d{10,11}\b(?:\.\d{3,6})?"
_LONG_EPOCH = r"\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?"  # seconds, milliseconds or microseconds
_UNBOUND = (re.compile(r"^\{UNB\}"), re.compile(r"^\{\^LN-BEG\}"), re.compile(r"^\((?:\?:)?\^\|\\b\|\\W\)"),
            re.compile(r"\(\?=\\b\|\\W\|\$\)$"))

PATTERN, EPOCH_KIND, TAI64N = 0, 1, 2


@dataclass(frozen=True, slots=True)
class TemplateDef:
    """An immutable template definition, shared by detectors; `spec` is the datepattern text it came from."""

    spec: str
    name: str
    regex: re.Pattern[str]
    flags: int
    kind: int = PATTERN
    group: int = 1  # the group holding the epoch digits (EPOCH kinds)
    long: bool = False
    # the groups other than the time of day, when the template has %H, %M and %S (not %I): dates that agree on
    # them differ by their time of day only (see DateDetector._by_day)
    day_keys: tuple[str, ...] | None = None


TIME_OF_DAY = ("H", "M", "S")


def _day_keys(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    names = regex.groupindex
    if any(key not in names for key in TIME_OF_DAY) or "I" in names:
        return None
    return tuple(key for key in names if key not in (*TIME_OF_DAY, "f"))


def _bound(regex: str, name: str, begin: bool | str, end: bool) -> tuple[str, str, int]:
    """Add word or line-start bounds and group 1 to a template regex (begin == "start": line start)."""
    regex = regex.strip()
    flags_m = _GLOBAL_FLAGS.search(regex)
    if flags_m:
        regex = regex[:flags_m.start()] + regex[flags_m.end():]
    bound_begin = bool(begin) and not _OPEN_BEGIN.match(regex)
    bound_end = end and not _OPEN_END.search(regex)
    if not _CAPTURING.search(regex):
        regex = _BODY.sub(r"\1(\2)\3", regex)
    flags = 0
    if bound_begin:
        if begin == "start":
            flags |= LINE_BEGIN
            regex = _LINE_START + regex
            if not name.startswith("{^LN-BEG}"):
                name = "{^LN-BEG}" + name
        else:
            regex = _NOT_IN_WORD + regex
    if bound_end:
        regex += _NOT_IN_WORD
    if _ANCHOR_BEGIN.search(regex):
        flags |= LINE_BEGIN
    if _ANCHOR_END.search(regex):
        flags |= LINE_END
    regex = _STARS.sub(lambda m: m.group().replace("**", ""), regex)
    if flags_m:
        regex = flags_m.group() + regex
    return regex, name, flags


def _compile(spec: str, regex: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise problem(spec, f"is not a valid regex with its directives expanded: {exc.msg}",
                       "check parentheses and escapes; each directive may appear once") from None


def problem(spec: str, message: str, fix: str) -> RegexError:
    return RegexError(Problem(message, option="datepattern", value=spec, fix=fix))


_DEFS: dict[str, TemplateDef] = {}


def define(spec: str) -> TemplateDef:
    """The template for one datepattern line (not a {DEFAULT}/{^LN-BEG}/{DATE} set), cached by its text."""
    found = _DEFS.get(spec)
    if found is not None:
        return found
    key = spec if "%" in spec else spec.upper()
    defn: TemplateDef | None = None
    if "EPOCH" in key:
        long = "LEPOCH" in key
        if _EPOCH_SLOT.search(spec):
            body = _EPOCH_SLOT.sub(lambda _: f"({_LONG_EPOCH if long else _EPOCH})", spec)
            regex, name, flags = _bound(f"({body})", spec, True, True)
            defn = TemplateDef(spec, name, _compile(spec, regex), flags, EPOCH_KIND, 2, long)
        elif key in ("EPOCH", "{^LN-BEG}EPOCH", "^EPOCH", "LEPOCH", "{^LN-BEG}LEPOCH", "^LEPOCH"):
            digits = _LONG_EPOCH if long else _EPOCH
            name = "LongEpoch" if long else "Epoch"
            if key in ("EPOCH", "LEPOCH"):
                # at line start, right after a "[" that starts the line, or in SELinux's "audit(...)"
                regex, name, flags = _bound(rf"(?:^|(?<=^\[)|(?<=\baudit\())({digits})", name, False, True)
            else:
                regex, name, flags = _bound(f"({digits})", name, "start", True)
            defn = TemplateDef(spec, name, _compile(spec, regex), flags, EPOCH_KIND, 1, long)
    if defn is None and key in ("TAI64N", "{^LN-BEG}TAI64N", "^TAI64N"):
        regex, name, flags = _bound("@[0-9a-f]{24}", "TAI64N", "start" if key != "TAI64N" else False, True)
        defn = TemplateDef(spec, name, _compile(spec, regex), flags, TAI64N)
    if defn is None:
        begin: bool | str = True
        end = True
        pattern = spec
        if pattern.startswith("{UNB}"):
            pattern, begin, end = pattern[5:], False, False
        if begin and pattern.startswith("{^LN-BEG}"):
            pattern, begin = pattern[9:], "start"
        try:
            text = translate(pattern)
        except ValueError as exc:
            raise problem(spec, str(exc), "write %% for a literal percent sign") from None
        regex, name, flags = _bound(("(?iu)" if text.ignore_case else "") + text.regex, text.name, begin, end)
        compiled = _compile(spec, regex)
        defn = TemplateDef(spec, name, compiled, flags, day_keys=_day_keys(compiled))
    if len(_DEFS) > 1000:
        _DEFS.clear()
    _DEFS[spec] = defn
    return defn


# fail2ban's default templates. Their text is fixed by compatibility: the display names derive from it.
DEFAULT_SPECS = (
    r"%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?",  # ISO 8601 and alike
    r"(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",  # syslog, asctime (year optional, at the end)
    r"(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?",  # asctime with the year before the time
    r"%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",  # 23/01/2005 21:59:59 (x11vnc)
    r"%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?",  # apache CLF, named, roundcube
    r"%m/%d/%ExY:%H:%M:%S",  # cPanel
    r"%m-%d-%ExY %k:%M:%S(?:\.%f)?",
    r"EPOCH",
    r"{^LN-BEG}%H:%M:%S",  # time only
    r"^<%m/%d/%Exy@%H:%M:%S>",
    r"%Exy%Exm%Exd  ?%H:%M:%S",  # MySQL
    r"%b %d, %ExY %I:%M:%S %p",  # Apache Tomcat
    r"^%b-%d-%Exy %k:%M:%S",  # ASSP
    r"%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?",  # basic ISO 8601
    r"(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",  # monit: zone name first
    r"(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"TAI64N",
)


def unbound(pattern: str) -> str:
    for rx in _UNBOUND:
        pattern = rx.sub("", pattern)
    return pattern


def fill_date(pattern: str, inner: str) -> str:
    return _DATE_SLOT.sub(lambda _: inner, pattern)


_DEFAULTS: tuple[tuple[TemplateDef, float], ...] = ()


def default_set() -> tuple[tuple[TemplateDef, float], ...]:
    """The default templates in fail2ban's initial order: the line-begin form of every default that is not
    anchored already (weight 100, so they keep the front), then the defaults themselves."""
    global _DEFAULTS
    if not _DEFAULTS:
        anchored: list[tuple[TemplateDef, float]] = []
        plain: list[tuple[TemplateDef, float]] = []
        for spec in DEFAULT_SPECS:
            defn = define(spec)
            if not defn.name.startswith(("{^LN-BEG}", "^")):
                at_start = define("{^LN-BEG}" + spec)
                if at_start.name != defn.name:
                    anchored.append((at_start, 100.0))
            plain.append((defn, 1.0))
        _DEFAULTS = (*anchored, *plain)
    return _DEFAULTS


def _key(pattern: str) -> str:
    """fail2ban's key for a datepattern line: the line itself when it holds a "%", else in upper case."""
    return pattern if "%" in pattern else pattern.upper()


def _anchored_default_keys() -> frozenset[str]:
    """The keys of the line-begin forms the default set adds (weight 100)."""
    return frozenset(_key(defn.spec) for defn, weight in default_set() if weight == 100.0)


def template_list(patterns: Sequence[str]) -> tuple[list[tuple[TemplateDef, float]], bool]:
    """The templates of a filter's `datepattern` lines in their initial order, each with its weight, and whether
    the lines say {NONE} (no date in lines). No lines (or only blank ones) means the default set. Raises
    RegexError for a bad pattern or a template given twice."""
    out: list[tuple[TemplateDef, float]] = []
    names: set[str] = set()
    none = False
    defaults_built = False

    def add(defn: TemplateDef, weight: float, ignore_dup: bool) -> None:
        if defn.name in names:
            if ignore_dup:
                return
            raise problem(defn.spec, f"repeats the date template {defn.name!r}", "remove the repeated line")
        names.add(defn.name)
        out.append((defn, weight))

    def add_defaults(line_begin_only: bool) -> None:
        ignore_dup = bool(out)
        for defn, weight in default_set():
            if not line_begin_only or defn.flags & LINE_BEGIN:
                add(defn, weight, ignore_dup)

    for line in patterns:
        pattern = line.strip()
        key = _key(pattern)
        if not pattern or key == "{DEFAULT}":
            # fail2ban's filter for {DEFAULT} rejects every template: it adds nothing, and alone it leaves the
            # list empty, which means the default set
            continue
        if key == "{^LN-BEG}":
            add_defaults(line_begin_only=True)
            defaults_built = True
        elif "{DATE}" in key:
            # every default (not its line-begin form), unbound, in place of {DATE}
            ignore_dup = bool(out)
            for spec in DEFAULT_SPECS:
                base = define(spec)
                inner = unbound(spec if base.kind == PATTERN else base.name)
                add(define(fill_date(pattern, inner)), 1.0, ignore_dup)
        elif key == "{NONE}":
            none = True
            add(define("{UNB}^"), 1.0, False)
        else:
            add(define(pattern), 1.0, False)
    if not out:
        add_defaults(line_begin_only=False)
    elif defaults_built:
        # fail2ban keeps one template per key: a line that is one of the line-begin forms of the default set
        # ({^LN-BEG}Epoch) is that form, and once the set is made (here by the {^LN-BEG} line) weighs 100 too,
        # so a line-begin default that hits less often does not move in front of it
        keys = _anchored_default_keys()
        out = [(defn, 100.0 if _key(defn.spec) in keys else weight) for defn, weight in out]
    return out, none
