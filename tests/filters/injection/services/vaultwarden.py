"""Vaultwarden: '[date][vaultwarden::api::identity][ERROR] Username or password is incorrect. Try again. IP: A.
Username: U.' The address comes before the user name, which is written raw."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "bob@example.org", "login e-mail")
D = "[2026-11-25 08:44:15.123]"

SERVICE = Service(
    filter="vaultwarden",
    daemon="vaultwarden",
    prefixes=(BARE,),
    templates=(
        Template("password", D + "[vaultwarden::api::identity][ERROR] Username or password is incorrect. Try "
                 "again. IP: {A}. Username: {user}.", (USER,)),
        Template("admin", D + "[vaultwarden::api::admin][ERROR] Invalid admin token. IP: {A}", ()),
        Template("totp", D + "[vaultwarden::api::identity][ERROR] Invalid TOTP code! Server time: 2026-11-25 "
                 "08:44:15.123 UTC IP: {A}", ()),
    ),
    notes="the address is what Vaultwarden takes from IP_HEADER (X-Real-IP by default): without a proxy that "
    "sets it, the client chooses it; that is configuration, not log text.",
)
