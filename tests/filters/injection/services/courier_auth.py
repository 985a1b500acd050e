"""Courier IMAP/POP3 (imapd, pop3d, imapd-ssl, courierpop3login): 'LOGIN FAILED, user=U, ip=[A]' with
IPv4 clients written IPv4-mapped ('[::ffff:a.b.c.d]'), optionally ', port=[N]'. The user is the LOGIN
argument, written without escaping (IMAP/POP3 lines cannot carry CR/LF)."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "bob@example.org", "LOGIN / USER argument")

SERVICE = Service(
    filter="courier-auth",
    daemon="imapd",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("failed4", "LOGIN FAILED, user={user}, ip=[::ffff:{A}]", (USER,), families="4"),
        Template("failed6", "LOGIN FAILED, user={user}, ip=[{A}]", (USER,), families="6"),
        Template("failed-port", "LOGIN FAILED, user={user}, ip=[::ffff:{A}], port=[{port}]", (USER,), families="4"),
        Template("failed-method", "LOGIN FAILED, method=PLAIN, ip=[::ffff:{A}]", (), families="4"),
    ),
    controls="all but CR/LF (rsyslog writes them as #ooo, the journal keeps them)",
)
