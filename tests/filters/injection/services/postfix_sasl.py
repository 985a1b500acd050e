"""Postfix smtpd SASL failures: 'warning: name[A]: SASL LOGIN authentication failed: REASON'. The reason is a
base64 server challenge or the SASL library's text; the client's SASL user name is not in this line."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, question

HELO = Field("helo", question, "example.com", "HELO/EHLO argument (in the reject line read alongside)")

SERVICE = Service(
    filter="postfix-sasl",
    daemon="postfix/submission/smtpd",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("login", "warning: unknown[{A}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", ()),
        Template("plain", "warning: unknown[{A}]: SASL PLAIN authentication failed: ", ()),
        Template("reject", "NOQUEUE: reject: RCPT from unknown[{A}]: 554 5.7.1 <x@example.net>: Relay access "
                 "denied; from=<a@b> to=<x@example.net> proto=ESMTP helo=<{helo}>", (HELO,), ()),
    ),
)
