"""ZNC's adminlog module: '[DATE] [U] failed to login from A[:PORT]' in moddata/adminlog/znc.log, or after the
journal's "znc[PID]: " tag. U is the user name of the client's PASS/USER command, written as received."""

from __future__ import annotations

from ..spec import BARE, JOURNAL, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "bob", "user name (IRC PASS user:password or USER)")

SERVICE = Service(
    filter="znc-adminlog",
    daemon="znc",
    prefixes=(BARE, JOURNAL),
    templates=(
        Template("failed", "[2026-11-25 08:44:15] [{user}] failed to login from {A}", (USER,), prefixes=(BARE,)),
        Template("failed-port", "[2026-11-25 08:44:15] [{user}] failed to login from {A}:{port}", (USER,),
                 families="4", prefixes=(BARE,)),
        Template("journal", "[{user}] failed to login from {A}:{port}", (USER,), families="4",
                 prefixes=(JOURNAL,)),
    ),
    notes="An IPv6 client with a port ('2001:db8::1:65001', no brackets) is ambiguous and not generated.",
)
