"""Pure-FTPd: '(account@A) [WARNING] Authentication failed for user [U]'. The account before '@' is '?' until
login; the address is written by the server; the USER argument comes last, raw but for CR/LF."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf, ptr_name

USER = Field("user", no_crlf, "bob", "USER argument")
# without -H (DontResolve), pure-ftpd writes the client's reverse name, unconfirmed: the client's zone chooses it
NAME = ptr_name("PTR name of the client")

SERVICE = Service(
    filter="pure-ftpd",
    daemon="pure-ftpd",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("failed", "(?@{A}) [WARNING] Authentication failed for user [{user}]", (USER,)),
        Template("failed-name", "(?@{name}) [WARNING] Authentication failed for user [bob]", (NAME,), ()),
    ),
)
