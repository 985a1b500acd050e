"""Murmur (Mumble server): '<W>DATE 1 => <SESSION:NAME(-1)> Rejected connection from A:PORT: REASON' in
murmurd's own log, or after the journal's "murmurd[PID]: " tag. NAME is the user name of the client's
Authenticate message, written as received (murmur validates it only later)."""

from __future__ import annotations

from ..spec import BARE, JOURNAL, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "bob", "user name (Authenticate message)")
D = "<W>2026-11-25 08:44:15.818 1 => <{pid}:{user}(-1)> Rejected connection from "

SERVICE = Service(
    filter="murmur",
    daemon="murmurd",
    prefixes=(BARE, JOURNAL),
    templates=(
        Template("server-password", D + "{A}:{port}: Invalid server password", (USER,), families="4"),
        Template("user-password", D + "{A}:{port}: Wrong certificate or password for existing user", (USER,),
                 families="4"),
        Template("server-password-6", D + "[{A}]:{port}: Invalid server password", (USER,), families="6"),
    ),
    notes="Murmur 1.3 writes IPv6 peers bracketed ('[2001:db8::1]:port'); older ones wrote IPv4-mapped forms, "
    "which the IPv4-mapped victims cover.",
)
