"""phpMyAdmin's syslog auth log ($cfg['AuthLog'] = 'syslog'): 'user denied: U (REASON-denied) from A'. The
login name is written raw (PHP syslog())."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "root", "login name")

SERVICE = Service(
    filter="phpmyadmin-syslog",
    daemon="phpMyAdmin",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("denied", "user denied: {user} (mysql-denied) from {A}", (USER,)),
        Template("empty", "user denied: {user} (empty-denied) from {A}", (USER,)),
    ),
)
