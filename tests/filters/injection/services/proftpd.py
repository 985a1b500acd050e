"""ProFTPD (mod_auth): 'server (name[A]) - USER U: no such user found from name [A] to L:21'. The server
writes the client as 'name[addr]' before any client text (name: the forward-checked reverse name, or the
address); the USER argument is written raw (FTP commands cannot carry CR/LF)."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf, ptr_name

USER = Field("user", no_crlf, "bob", "USER argument")
NAME = ptr_name("reverse name of the client (UseReverseDNS)")
HEAD = "ftp1.example.org ({A}[{A}]) - "

SERVICE = Service(
    filter="proftpd",
    daemon="proftpd",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("no-such-user", HEAD + "USER {user}: no such user found from {A} [{A}] to 203.0.113.1:21", (USER,)),
        Template("incorrect", HEAD + "USER {user} (Login failed): Incorrect password", (USER,)),
        Template("no-such-user-name", "ftp1.example.org ({name}[{A}]) - USER bob: no such user found from {name} "
                 "[{A}] to 203.0.113.1:21", (NAME,)),
        Template("max", HEAD + "Maximum login attempts (3) exceeded", ()),
        Template("violation", HEAD + "SECURITY VIOLATION: root login attempted", ()),
    ),
    controls="all but CR/LF",
)
