"""fail2ban's / banjail's own log: 'DATE fail2ban.actions [PID]: NOTICE [JAIL] Ban A'. No part of these
lines is client text: jail names are configuration and the address is the ban's. (banjail never logs matched
log text at NOTICE.)"""

from __future__ import annotations

from ..spec import BARE, Service, Template

SERVICE = Service(
    filter="recidive",
    daemon="fail2ban-server",
    prefixes=(BARE,),
    templates=(
        Template("ban", "2026-11-25 08:44:15,123 fail2ban.actions        [812]: NOTICE  [sshd] Ban {A}", ()),
        Template("banjail", "2026-11-25 08:44:16,123 banjail.actions         [812]: NOTICE  [postfix] Ban {A}", ()),
    ),
    notes="no client-controlled field: only controls are generated",
)
