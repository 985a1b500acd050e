"""OpenSSH sshd (7.x-9.x, also sshd-session): the lines of auth.c, auth2.c, auth-pam.c, packet.c, sshd.c,
kex.c as do_log() writes them (strnvis over the whole message: printable ASCII kept, spaces ':' ',' included)."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, ptr_name, strnvis

USER = Field(
    "user",
    strnvis,
    "guest",
    "user name (SSH_MSG_USERAUTH_REQUEST, any bytes, up to 255 shown)",
    alias=(("user2", strnvis),),
)
OTHER = Field("other", strnvis, "root", "the second user name of a session that changes it")
TEXT = Field("text", strnvis, "bye", "disconnect reason (SSH_MSG_DISCONNECT description)")
BANNER = Field("banner", strnvis, "GET / HTTP/1.1", "protocol identification string")
OFFER = Field("offer", strnvis, "diffie-hellman-group1-sha1", "the client's algorithm list (KEXINIT)")

# aggressive is run with publickey=any: together they hold every regex the other sets have but extra's own
# "Disconnected from invalid user" and publickey=nofail's helper (the default set has that one)
AGG = {"mode": "aggressive", "publickey": "any"}
NORMAL: tuple[dict[str, str], ...] = ({}, {"mode": "extra"}, AGG)
DDOS: tuple[dict[str, str], ...] = (AGG,)
EXTRA: tuple[dict[str, str], ...] = ({"mode": "extra"}, AGG)
NAME = ptr_name("tcpd's name of the client (PTR)")
CONN = "Connection from {A} port {port} on 10.0.0.1 port 22 rdomain \"\""
RUSER = Field("ruser", strnvis, "bob", "protocol 1 rhosts remote user name")
KEYID = Field("keyid", strnvis, "alice@laptop", "key id of a certificate from an untrusted CA")
CUSER = Field("cuser", strnvis, "alice", "hostbased client user name")
CHOST = Field("chost", strnvis, "laptop.example.org", "hostbased client host name")
KEY = "RSA SHA256:2c7+0GNJ0mJYWx9hJ2HxzR7nXKjBRsjzJ6eJ1T1+8DQ"

T = Template
SERVICE = Service(
    filter="sshd",
    daemon="sshd",
    prefixes=SYSLOG_FORMS,
    option_sets=({}, {"mode": "extra"}, AGG),
    templates=(
        T("failed-password-valid", "Failed password for root from {A} port {port} ssh2", ()),
        T("failed-password", "Failed password for invalid user {user} from {A} port {port} ssh2", (USER,), NORMAL),
        T("failed-kbdint", "Failed keyboard-interactive/pam for invalid user {user} from {A} port {port} ssh2",
          (USER,), NORMAL),
        T("failed-none", "Failed none for invalid user {user} from {A} port {port} ssh2", (USER,), NORMAL),
        T("failed-publickey", "Failed publickey for invalid user {user} from {A} port {port} ssh2: " + KEY,
          (USER,), NORMAL),
        T("failed-publickey-valid", "Failed publickey for root from {A} port {port} ssh2: " + KEY, (),
          (AGG,)),
        T(
            "failed-cert",
            "Failed publickey for invalid user {user} from {A} port {port} ssh2: RSA-CERT " + KEY.split()[1]
            + " ID {keyid} (serial 7) CA RSA " + KEY.split()[1],
            (USER, KEYID),
            NORMAL,
        ),
        T(
            "failed-hostbased",
            "Failed hostbased for root from {A} port {port} ssh2: " + KEY
            + ', client user "{cuser}", client host "{chost}"',
            (CUSER, CHOST),
            NORMAL,
        ),
        # protocol 1 (OpenSSH < 7.4): the client's remote user name after the address; not read any more
        T("ssh1-ruser", "Failed password for invalid user {user} from {A} port {port} ssh1: ruser {ruser}",
          (USER, RUSER), ()),
        T("invalid-user", "Invalid user {user} from {A} port {port}", (USER,), NORMAL),
        T("not-allowed", "User root from {A} not allowed because not listed in AllowUsers", (), NORMAL),
        T("max-attempts",
          "error: maximum authentication attempts exceeded for invalid user {user} from {A} port {port} ssh2 [preauth]",
          (USER,), NORMAL),
        T("disconnecting-too-many",
          "Disconnecting invalid user {user} {A} port {port}: Too many authentication failures [preauth]",
          (USER,), NORMAL),
        T("pam-failure",
          "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={A}  user=root",
          (), ()),
        T("disconnect-auth-fail",
          "Received disconnect from {A} port {port}:3: {text}: Auth fail [preauth]", (TEXT,), NORMAL),
        T("disconnect-11", "Received disconnect from {A} port {port}:11: {text} [preauth]", (TEXT,), (),
          before=("Failed password for root from {A} port {port} ssh2",)),
        # the address of a session comes from its closing line: the failure line before it has none
        T("closed-invalid-session", "Connection closed by invalid user {user} {A} port {port} [preauth]", (USER,),
          NORMAL, before=("Disconnecting: Too many authentication failures [preauth]",)),
        T("disconnected-invalid-session", "Disconnected from invalid user {user} {A} port {port} [preauth]",
          (USER,), NORMAL, before=("Disconnecting: Too many authentication failures [preauth]",)),
        T("closed-authenticating-session",
          "Connection closed by authenticating user root {A} port {port} [preauth]", (),
          NORMAL, before=("Disconnecting: Too many authentication failures for root [preauth]",)),
        T("closed-invalid", "Connection closed by invalid user {user} {A} port {port} [preauth]", (USER,), DDOS),
        T("disconnected-invalid", "Disconnected from invalid user {user} {A} port {port} [preauth]", (USER,),
          ({"mode": "extra"}, AGG)),
        T(
            "change-of-username",
            "Disconnecting invalid user {user} {A} port {port}: Change of username or service not allowed: "
            "({user2},ssh-connection) -> ({other},ssh-connection) [preauth]",
            (USER, OTHER),
            NORMAL,
        ),
        T("pam-illegal", "error: PAM: Authentication failure for illegal user {user} from {A}", (USER,), NORMAL),
        T(
            "pam-unknown",
            "error: PAM: User not known to the underlying authentication module for illegal user {user} from {A}",
            (USER,),
            NORMAL,
        ),
        T("closed-preauth", "Connection closed by {A} port {port} [preauth]", (), DDOS),
        # lines without an address: the session's "Connection from" line (LogLevel VERBOSE) names it
        T("locked", "User root not allowed because account is locked", (), NORMAL, before=(CONN,)),
        T("root-refused", "ROOT LOGIN REFUSED FROM {A} port {port}", (), NORMAL),
        T("tcpwrappers", "refused connect from {name} ({A})", (NAME,), NORMAL),
        T("accepted", "Accepted password for root from {A} port {port} ssh2", (), (), before=(CONN,)),
        T("kex-closed", "error: kex_exchange_identification: Connection closed by remote host", (), DDOS,
          before=(CONN,)),
        T("kex-closed-helper", "Connection closed by {A} port {port}", (), DDOS,
          before=("error: kex_exchange_identification: Connection closed by remote host",)),
        T("timeout", "Timeout before authentication for {A} port {port}", (), DDOS),
        T("socket-reset", "Read from socket failed: Connection reset by peer [preauth]", (), DDOS, before=(CONN,)),
        T("audit-patch", "SSH: Server;Ltype: Authname;Remote: {A}-{port};Name: {user} [preauth]", (USER,), (),
          before=("Did not receive identification string from {A} port {port}",)),
        T("negotiate-no-address", "Unable to negotiate a key exchange method [preauth]", (), EXTRA, before=(CONN,)),
        T("no-matching", "fatal: no matching cipher found: client {offer} server aes256-gcm@openssh.com", (OFFER,),
          EXTRA, before=(CONN,)),
        T("no-identification", "Did not receive identification string from {A} port {port}", (), DDOS),
        T("bad-banner", "Bad protocol version identification '{banner}' from {A} port {port}", (BANNER,), DDOS),
        T("banner-invalid", "banner exchange: Connection from {A} port {port}: invalid format", (), DDOS),
        T("dispatch-fatal",
          "ssh_dispatch_run_fatal: Connection from invalid user {user} {A} port {port}: "
          "message authentication code incorrect [preauth]", (USER,), DDOS),
        T("unable-negotiate",
          "Unable to negotiate with {A} port {port}: no matching key exchange method found. "
          "Their offer: {offer} [preauth]", (OFFER,), EXTRA),
        T("no-auth-methods",
          "Received disconnect from {A} port {port}:14: No supported authentication methods available [preauth]",
          (), EXTRA),
    ),
    notes="Valid users (root) and PAM's rhost= are not attacker text: a user must exist to appear there, and "
    "rhost is sshd's forward-confirmed name or the address. UseDNS names are left out (sshd only logs a name that "
    "resolves back to the client).",
)
