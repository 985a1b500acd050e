"""Local time and zones, the way fail2ban reads them: zone abbreviations and numeric offsets (%z, %Z,
`logtimezone`), and wall time of the process TZ (the C library's mktime as fail2ban calls it) with a memo per date
detector.

Pure apart from the process TZ, which `time.localtime` consults; `now` is always an argument.
"""

from __future__ import annotations

import datetime
import re
import time

_INF = float("inf")

ZONE_ABBR = r"[A-Z](?:[A-Z]{2,4})?"  # 1 or 3..5 capitals: military letters and the usual abbreviations
NUM_OFFSET = r"[+-][01]\d(?::?\d{2})?"  # +hh, +hhmm, +hh:mm

# Zone abbreviations fail2ban knows, by offset from UTC in minutes. They are fixed offsets: CET never becomes CEST
# by itself.
_ZONES_BY_OFFSET = {
    -720: "Y", -660: "X NUT SST", -600: "W CKT HAST HST TAHT TKT", -570: "MART MIT",
    -540: "V AKST GAMT GIT HADT HNY", -480: "U AKDT CIST HAY HNP PST PT", -420: "T HAP HNR MST PDT",
    -360: "S CST EAST GALT HAR HNC MDT", -300: "R CDT COT EASST ECT EST ET HAC HNE PET", -270: "HLV VET",
    -240: "Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT", -210: "HNT NST NT",
    -180: "P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT", -150: "HAT NDT",
    -120: "O BRST FNT PMDT UYST WGST", -60: "N AZOT CVT EGT", 0: "Z EGST GMT UTC WET WT",
    60: "A CET DFT WAT WEDT WEST", 120: "B CAT CEDT CEST EET SAST WAST", 180: "C EAT EEDT EEST IDT MSK",
    210: "IRST", 240: "D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT", 270: "AFT IRDT",
    300: "E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT", 330: "SLT", 345: "NPT",
    360: "F ALMT BIOT BTT IOT KGT NOVT OMST YEKST", 390: "CCT MMT",
    420: "G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB",
    480: "H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST",
    540: "I AWDT IRKST JST KST PWT TLT WDT WIT YAKT", 570: "ACST", 600: "K AEST ChST PGT VLAT YAKST YAPT",
    630: "ACDT LHST", 660: "L AEDT LHDT MAGT NCT PONT SBT VLAST VUT", 690: "NFT",
    720: "M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT", 780: "FJST NZDT",
}
ZONE_OFFSETS: dict[str, int] = {
    abbr: offset for offset, names in _ZONES_BY_OFFSET.items() for abbr in names.split()
}
_ZONE_TEXT = re.compile(rf"({ZONE_ABBR})?({NUM_OFFSET})?$")


def zone_offset(text: str) -> int:
    """Minutes east of UTC for a zone written as ABBR, +hh[[:]mm], or ABBR+hh[[:]mm] (the sum of both), as
    fail2ban's logtimezone and %z/%Z accept them. Case matters. Raises ValueError for anything else."""
    m = _ZONE_TEXT.match(text)
    if m is None:
        raise ValueError(f"unknown or unsupported time zone: {text!r}")
    abbr, num = m.groups()
    base = ZONE_OFFSETS.get(abbr or "UTC")
    if base is None:
        raise ValueError(f"unknown time zone abbreviation: {abbr!r}")
    if not num:
        return base
    sign = -1 if num[0] == "-" else 1
    digits = num[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    return base + sign * minutes




# A DST change makes local wall time jump (by at most this much, in practice an hour): near one, wall time and
# epoch do not map one to one, and cached answers must not outlive the change.
MARGIN = 7200
UNIX_DAY = datetime.date(1970, 1, 1).toordinal()

# A wall time is a (day ordinal, second of the day) pair: integer arithmetic, no datetime objects per line.
Wall = tuple[int, float]


def _offset_at(epoch: float) -> int:
    return time.localtime(epoch).tm_gmtoff


class LocalZone:
    """Local wall time of the process TZ, memoized for one date detector: the wall time of `now`, and for each
    day the UTC offset in force all around it (None near a DST change). Create a new one after changing TZ."""

    __slots__ = ("_days", "_now", "_wall")

    def __init__(self) -> None:
        self._days: dict[int, int | None] = {}
        self._now = float("nan")
        self._wall: tuple[Wall, int] = ((0, 0.0), 0)

    def wall(self, now: float) -> tuple[Wall, int]:
        """The local wall time of `now` and its year."""
        if now != self._now:
            w = datetime.datetime.fromtimestamp(now)
            self._wall = ((w.toordinal(), w.hour * 3600 + w.minute * 60 + w.second + w.microsecond / 1e6), w.year)
            self._now = now
        return self._wall

    def steady_offset(self, day: int) -> int | None:
        """The UTC offset (seconds) in force from two days before `day` to three days after, if it is one."""
        try:
            return self._days[day]
        except KeyError:
            pass
        start = (day - UNIX_DAY) * 86400
        try:
            before, after = _offset_at(start - 2 * 86400), _offset_at(start + 3 * 86400)
        except (OverflowError, ValueError, OSError):
            before, after = 0, 1
        found = before if before == after else None
        if len(self._days) > 4096:
            self._days.clear()
        self._days[day] = found
        return found

    def epoch(self, wall: Wall, last: float | None) -> tuple[float, bool]:
        """Epoch of a local wall time and whether it occurs twice; see local_epoch."""
        base = (wall[0] - UNIX_DAY) * 86400 + wall[1]
        offset = self.steady_offset(wall[0])
        if offset is not None:
            return float(base - offset), False
        return _exact_local(base, last)

    def reached(self, wall: Wall) -> float:
        """The instant local wall time reaches `wall`, or an earlier one (safe for a cache) near a DST change."""
        base = (wall[0] - UNIX_DAY) * 86400 + wall[1]
        offset = self.steady_offset(wall[0])
        if offset is not None:
            return float(base - offset)
        try:
            # whether the wall time is skipped, repeated or unique, it is reached no earlier than this
            return base - max(_offset_at(base - 86400), _offset_at(base + 86400)) - MARGIN
        except (OverflowError, ValueError, OSError):
            return -_INF


def _exact_local(base: float, last: float | None) -> tuple[float, bool]:
    """Epoch of the wall time `base` (seconds, read as UTC) near a DST change."""
    before = _offset_at(base - 86400)
    after = _offset_at(base + 86400)
    found = [base - offset for offset in dict.fromkeys((before, after)) if _offset_at(base - offset) == offset]
    if not found:
        return float(base - before), False
    if len(found) == 1:
        return float(found[0]), False
    guess = _offset_at(last) if last is not None else 0
    return float(min(found, key=lambda epoch: abs(base - epoch - guess))), True


def local_epoch(wall: datetime.datetime, last: float | None = None) -> tuple[float, bool]:
    """Epoch of a local wall time (process TZ) as the C library's mktime answers fail2ban, and whether the wall
    time occurs twice. One that occurs twice (the hour a DST change repeats) takes the UTC offset in force at
    `last` (mktime keeps the offset of its previous answer; fail2ban's previous answer is the last date), or the
    one nearer to UTC without it; one that does not occur (the hour skipped) is read with the offset in force
    before the change."""
    return LocalZone().epoch((wall.toordinal(), wall.hour * 3600 + wall.minute * 60 + wall.second), last)
