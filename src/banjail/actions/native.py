"""Which action.d files banjail runs with its own code instead of their commands.

An action file declares it with an `[Init]` option `native = KIND` (banjail's own stock files do; upstream's
files do not, so they keep running as commands). Because it is an [Init] value, a jail can turn it off with
`action = nftables[native=]`, and then the file's commands run as with upstream fail2ban.

Kinds: nftables (NftablesAction), ipset (IpsetAction: iptables with a set per family, filled by `ipset restore`),
mail (MailAction: the message is built in Python and sent through a
sendmail-compatible program or directly over SMTP, after the ban and without holding the jail's queue).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from banjail.actions.base import Action
from banjail.actions.ipset import IpsetAction
from banjail.actions.mail import MailAction
from banjail.actions.nftables import NftablesAction
from banjail.actions.runner import Runner
from banjail.config.schema import ActionSpec
from banjail.errors import ConfigError, Problem

KINDS = ("nftables", "ipset", "mail")


def native_action(
    spec: ActionSpec,
    *,
    jail: str,
    runner: Runner | None = None,
    clock: Callable[[], float] = time.time,
    ipv6: bool = True,
) -> Action | None:
    """The native Action the spec asks for with `native = KIND`, or None to run the file's commands.

    Raises ConfigError for an unknown kind or invalid options of the native action.
    """
    kind = spec.options.get("native", "").strip().lower()
    if not kind:
        return None
    if kind == "nftables":
        return NftablesAction(spec, jail=jail, runner=runner, clock=clock, ipv6=ipv6)
    if kind == "ipset":
        return IpsetAction(spec, jail=jail, runner=runner, clock=clock, ipv6=ipv6)
    if kind == "mail":
        return MailAction(spec, jail=jail, runner=runner, clock=clock)
    raise ConfigError(
        Problem(
            "unknown native action",
            file=spec.file,
            section="Init",
            option="native",
            value=kind,
            fix="use one of " + ", ".join(KINDS) + ", or leave it empty to run the commands",
        )
    )
