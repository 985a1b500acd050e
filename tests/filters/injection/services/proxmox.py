"""Proxmox VE / PMG / PBS API daemons: 'authentication failure; rhost=A user=U msg=MESSAGE'. The address is
written first; user and message (which may quote the user) are the client's."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "root@pam", "login name", alias=(("user2", no_crlf),))

SERVICE = Service(
    filter="proxmox",
    daemon="pvedaemon",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("failure", "authentication failure; rhost={A} user={user} msg=Authentication failure", (USER,)),
        Template("no-such-user", "authentication failure; rhost={A} user={user} msg=no such user ('{user2}')",
                 (USER,)),
        Template("mapped", "authentication failure; rhost=::ffff:{A} user={user} msg=Authentication failure",
                 (USER,), families="4"),
    ),
)
