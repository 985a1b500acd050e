"""Monit's HTTP interface: 'HttpRequest: access denied -- client A: wrong password for user 'U'' (and unknown
user, empty password), and monit < 5.20's "Warning: Client 'A' supplied ... user 'U' accessing monit httpd".
The user name (HTTP Basic) is the client's and comes after the address."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Prefix, Service, Template, no_crlf


def _monit_file(daemon: str, pid: int) -> str:
    return "[UTC Nov 25 08:44:15] error    : "


MONIT_FILE = Prefix("monit-file", _monit_file)
USER = Field("user", no_crlf, "bob", "user name (Authorization: Basic, decoded)")

SERVICE = Service(
    filter="monit",
    daemon="monit",
    prefixes=(MONIT_FILE, *SYSLOG_FORMS),
    templates=(
        Template("wrong-password", "HttpRequest: access denied -- client {A}: wrong password for user '{user}'",
                 (USER,)),
        Template("unknown-user", "HttpRequest: access denied -- client {A}: unknown user '{user}'", (USER,)),
        Template("empty-password", "HttpRequest: access denied -- client {A}: empty password", ()),
        Template("old-wrong-password",
                 "Warning: Client '{A}' supplied wrong password for user '{user}' accessing monit httpd", (USER,),
                 prefixes=(MONIT_FILE,)),
    ),
)
