from collections.abc import Sequence

from banjail.filter.outcome import LineOutcome
from banjail.model import Failure

def encode(failure: Failure, set_groups: frozenset[str] | set[str]) -> str: ...
def encode_outcomes(outcomes: Sequence[LineOutcome], set_groups: frozenset[str] | set[str]) -> str: ...
