"""Dovecot 2.x: login processes ('imap-login: Disconnected (auth failed, N attempts in S secs): user=<U>,
method=M, rip=A, lip=L, TLS, session=<S>') and auth workers ('auth-worker(N): pam(U,A,<S>): ...',
'auth: passwd-file(U,A,<S>): unknown user'), plus pam_unix through dovecot. Dovecot runs user names through
str_sanitize() (controls become '?'); with auth_username_chars emptied (the default allows only
[A-Za-z0-9.-_@]) any other byte reaches the log, which is what is generated here."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf, question

USER = Field("user", question, "bob", "login name (auth_username_chars emptied)")
RUSER = Field("ruser", no_crlf, "bob", "PAM_RUSER dovecot sets to the login name")
AGG: tuple[dict[str, str], ...] = ({"mode": "aggressive"},)
BOTH: tuple[dict[str, str], ...] = ({}, {"mode": "aggressive"})

T = Template
SERVICE = Service(
    filter="dovecot",
    daemon="dovecot",
    prefixes=SYSLOG_FORMS,
    option_sets=BOTH,
    templates=(
        T("login-failed", "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<{user}>, "
          "method=PLAIN, rip={A}, lip=203.0.113.1, TLS, session=<{sess}>", (USER,), BOTH),
        T("login-closed", "imap-login: Disconnected: Connection closed (auth failed, 3 attempts in 12 secs): "
          "user=<{user}>, method=PLAIN, rip={A}, lip=203.0.113.1, TLS, session=<{sess}>", (USER,), BOTH),
        T("pop3-aborted", "pop3-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<{user}>, "
          "method=PLAIN, rip={A}, lip=203.0.113.1, session=<{sess}>", (USER,), BOTH),
        T("pam", "auth-worker(4242): pam({user},{A},<{sess}>): pam_authenticate() failed: Authentication failure "
          "(Password mismatch?)", (USER,), BOTH),
        T("passwd-file", "auth: passwd-file({user},{A}): unknown user", (USER,), BOTH),
        T("passwd-file-session", "auth: passwd-file({user},{A},<{sess}>): unknown user", (USER,), BOTH),
        T("sql-mismatch", "auth: sql({user},{A},<{sess}>): Password mismatch", (USER,), BOTH),
        T("pam-unix", "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot "
          "ruser={ruser} rhost={A}", (RUSER,), BOTH),
        T("no-auth", "imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip={A}, lip=203.0.113.1, "
          "session=<{sess}>", (), AGG),
    ),
)
