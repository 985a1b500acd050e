"""MySQL 8 / MariaDB error log: "... [Warning] Access denied for user 'U'@'A' (using password: YES)". The user
name is the handshake's, written raw (no quoting of "'")."""

from __future__ import annotations

from ..spec import BARE, SYSLOG_FORMS, Field, Service, Template, no_crlf

USER = Field("user", lambda t: no_crlf(t).replace("\x00", ""), "root", "handshake user name")

SERVICE = Service(
    filter="mysqld-auth",
    daemon="mariadbd",
    prefixes=(BARE, *SYSLOG_FORMS),
    templates=(
        Template("mysql8", "2026-11-25T08:44:15.123456Z 12 [Note] [MY-010926] [Server] Access denied for user "
                 "'{user}'@'{A}' (using password: YES)", (USER,), prefixes=(BARE,)),
        Template("mariadb", "2026-11-25  8:44:16 34 [Warning] Access denied for user '{user}'@'{A}' (using "
                 "password: NO)", (USER,)),
    ),
)
