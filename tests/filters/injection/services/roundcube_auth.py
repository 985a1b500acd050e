"""Roundcube webmail errors log: '[date]: <sess> IMAP Error: Login failed for U against H from A[(X-Real-IP:
X,X-Forwarded-For: F)]. AUTHENTICATE PLAIN: RESPONSE in FILE on line N (POST /?_task=login&_action=login)'
and 'Failed login for U from A in session S (error: N)'. The login name, the forwarded headers and the IMAP
server's response (which can echo the client's words) are client text, all written raw."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "bob@example.org", "login name")
XFF = Field("xff", no_crlf, "203.0.113.9", "X-Forwarded-For header")
RESP = Field("resp", no_crlf, "Authentication failed.", "the IMAP server's response text")
D = "[25-Nov-2026 08:44:15 +0000]: <k3j2l1m0> "
TAIL = " in /usr/share/roundcube/program/lib/Roundcube/rcube_imap.php on line 211 (POST /?_task=login&_action=login)"

SERVICE = Service(
    filter="roundcube-auth",
    daemon="roundcube",
    prefixes=(BARE,),
    templates=(
        Template("imap", D + "IMAP Error: Login failed for {user} against localhost from {A}. AUTHENTICATE PLAIN: "
                 "{resp}" + TAIL, (USER, RESP)),
        Template("imap-xff", D + "IMAP Error: Login failed for {user} against localhost from {A}(X-Real-IP: "
                 "203.0.113.9,X-Forwarded-For: {xff}). AUTHENTICATE PLAIN: Authentication failed." + TAIL,
                 (USER, XFF)),
        Template("failed", D + "Failed login for {user} from {A} in session k3j2l1m1 (error: 0)", (USER,)),
    ),
)
