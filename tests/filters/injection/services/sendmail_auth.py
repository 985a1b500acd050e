"""Sendmail AUTH failures: 'QID: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): ...,
user=U, relay=[name ][A][ (may be forged)]'. The SASL user is the client's (sendmail writes it raw but for
CR/LF); the relay name is the PTR name, which sendmail writes even when not forward-confirmed ("may be
forged"): the attacker's zone chooses it (letters, digits, '-', '.' only)."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf, ptr_name

USER = Field("user", no_crlf, "bob", "SASL authentication id")
NAME = ptr_name("PTR name of the client")
HEAD = "5APAiF4t004242: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: "

SERVICE = Service(
    filter="sendmail-auth",
    daemon="sm-mta",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("auth-user", HEAD + "checkpass failed, user={user}, relay={name} [{A}] (may be forged)", (USER, NAME)),
        Template("auth-bare", HEAD + "Password verification failed, relay=[{A}]", ()),
        Template("attack", "5APAiH4t004244: {name} [{A}]: possible SMTP attack: command=AUTH, count=5", (NAME,)),
    ),
)
