"""Lines a regex matches, written from its tree: every literal as written, a matching character for each class,
the attacker's address wherever the regex captures an address. Used when the auditor has no real line for a
failregex. A `Choice` decides branches and repeat counts; several choices give several candidate lines, and the
auditor keeps the first that the engine confirms (look-arounds and back-references are not solved here)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from banjail.audit.tree import CHAR_OPS, MAXREPEAT, REPEATS, Item, Tree, accepts, subsequences

ATTACKER4 = "203.0.113.66"
ATTACKER6 = "2001:db8::66"
ATTACKER_NAME = "client.example"

# Characters tried for a class, in order: letters first (a generated date or number would confuse the date
# detector), then digits and the punctuation log lines use.
_CANDIDATES = "xyzabcXYZABC" + string.ascii_letters + "0123456789 -_.:/@=,;+()[]<>\"'#!?*&%$~^{}|\\`\t"

_ALL_CANDIDATES = _CANDIDATES + "".join(chr(code) for code in range(0xA0, 0x3000))

# groups whose value is an address: the attacker's is written there
ADDRESS_VALUES = {"ip4": ATTACKER4, "ip6": ATTACKER6, "dns": ATTACKER_NAME}


@dataclass(frozen=True, slots=True)
class Choice:
    """How to resolve the regex's freedom: `seed` None takes the first alternative (an address one when there is
    one) and one iteration of each optional repeat; a seed picks alternatives and counts at random, repeatably."""

    seed: int | None = None
    # iterations of an optional item (x?); an unbounded one (x*) is taken once unless this is -1
    optional: int = 0


def _contains_group(items: list[Item], names: Mapping[int, str], wanted: str) -> bool:
    for op, av in items:
        if op == "SUBPATTERN" and av[0] is not None and names.get(av[0]) == wanted:
            return True
        if any(_contains_group(sub, names, wanted) for sub in subsequences((op, av))):
            return True
    return False


class _Synth:
    def __init__(self, tree: Tree, choice: Choice, inner: Mapping[str, str]) -> None:
        self.tree = tree
        self.choice = choice
        self.inner = inner
        self.rng = random.Random(choice.seed) if choice.seed is not None else None
        self.groups: dict[int, str] = {}

    def seq(self, items: list[Item] | tuple[Item, ...]) -> str:
        return "".join(self.item(item) for item in items)

    def char(self, item: Item) -> str:
        op, av = item
        if op == "LITERAL":
            return chr(av)
        key = id(item)
        found = self.tree.memo.get(key)
        if found is None:
            found = next((ch for ch in _ALL_CANDIDATES if accepts(self.tree, item, ch)), "")
            self.tree.memo[key] = found
        return found

    def branch(self, alternatives: list[list[Item]]) -> list[Item]:
        if self.rng is not None:
            return self.rng.choice(alternatives)
        for wanted in ("ip4", "ip6"):
            for alt in alternatives:
                if _contains_group(alt, self.tree.names, wanted):
                    return alt
        return alternatives[0]

    def count(self, low: int, high: int) -> int:
        if self.rng is not None:
            top = min(high, low + 2)
            return self.rng.randint(low, top)
        if low > 0:
            return low
        if high == 1:
            return max(0, self.choice.optional)
        return 0 if self.choice.optional < 0 else 1

    def item(self, item: Item) -> str:
        op, av = item
        if op in CHAR_OPS:
            return self.char(item)
        if op == "SUBPATTERN":
            number = av[0]
            name = self.tree.names.get(number, "") if number is not None else ""
            if name in self.inner:
                text = self.inner[name]
            elif name in ADDRESS_VALUES:
                text = ADDRESS_VALUES[name]
            else:
                text = self.seq(av[3])
            if number is not None:
                self.groups[number] = text
            return text
        if op == "BRANCH":
            return self.seq(self.branch(av[1]))
        if op in REPEATS:
            low, high, body = av
            n = self.count(low, high if high != MAXREPEAT else low + 3)
            return "".join(self.seq(body) for _ in range(n))
        if op == "GROUPREF":
            return self.groups.get(av, "")
        if op == "GROUPREF_EXISTS":
            number, yes, no = av
            return self.seq(yes if number in self.groups else no)
        if op == "ATOMIC_GROUP":
            return self.seq(av)
        return ""  # anchors and look-arounds write nothing


def synthesize(tree: Tree, choice: Choice = Choice(), inner: Mapping[str, str] | None = None) -> str:
    """A text `tree` is meant to match (not guaranteed: the caller checks). `inner` gives the text of named
    groups outright (the prefregex's `content` group gets the failregex's line)."""
    return _Synth(tree, choice, inner or {}).seq(tree.items)


CHOICES: tuple[Choice, ...] = (
    Choice(),
    Choice(optional=1),
    Choice(optional=-1),
    *(Choice(seed) for seed in range(24)),
)


def candidates(make: Callable[[Choice], str]) -> list[str]:
    """The distinct texts `make` writes over CHOICES, in order."""
    seen: list[str] = []
    for choice in CHOICES:
        text = make(choice)
        if text not in seen:
            seen.append(text)
    return seen
