"""Apache httpd 2.2/2.4 error log (mod_auth_basic, mod_auth_digest, mod_authz_core): "[date] [module:level]
[pid N:tid T] [client A:port] AHnnnnn: message". The core writes the client before any message text; the
message's user and URI are escaped by ap_escape_errorlog_item (controls and bytes >= 0x7f as \\xHH)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape

USER = Field("user", lambda t: hex_escape(t, quote=False), "bob", "Basic/Digest user name")
URI = Field("uri", lambda t: hex_escape(t, quote=False), "/admin/", "request URI")
REALM = Field("realm", lambda t: hex_escape(t, quote=False), "private", "Digest realm the client sent")
SNI = Field("sni", lambda t: hex_escape(t, quote=False).replace(" ", ""), "a.example", "TLS SNI name")
HOSTH = Field("host", lambda t: hex_escape(t, quote=False), "b.example", "Host header")
HEAD = "[{apache}] [auth_basic:error] [pid {pid}:tid 140000] [client {A}:{port}] "
OLD = "[Wed Nov 25 08:44:15 2026] [error] [client {A}] "

T = Template
SERVICE = Service(
    filter="apache-auth",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        T("user-not-found", HEAD + "AH01618: user {user} not found: {uri}", (USER, URI)),
        T("user-not-found-22", OLD + "user {user} not found: {uri}", (USER, URI)),
        T("password-mismatch",
          HEAD + 'AH01617: user {user}: authentication failure for "{uri}": Password Mismatch', (USER, URI)),
        T("digest-mismatch",
          "[{apache}] [auth_digest:error] [pid {pid}:tid 140000] [client {A}:{port}] "
          "AH01792: user {user}: password mismatch: {uri}", (USER, URI)),
        T("digest-realm",
          "[{apache}] [auth_digest:error] [pid {pid}:tid 140000] [client {A}:{port}] "
          "AH01790: user `{user}' in realm `{realm}' not found: {uri}", (USER, REALM, URI)),
        T("denied",
          "[{apache}] [authz_core:error] [pid {pid}:tid 140000] [client {A}:{port}] "
          "AH01630: client denied by server configuration: /var/www{uri}", (URI,)),
        T("authz-failure", HEAD + 'AH01631: user {user}: authorization failure for "{uri}": ', (USER, URI)),
        T("authz-22", OLD + "Authorization of user {user} to access {uri} failed, reason: user is not part of the "
          "'require'ment", (USER, URI)),
        T("digest-qop",
          "[{apache}] [auth_digest:error] [pid {pid}:tid 140000] [client {A}:{port}] "
          "AH01793: invalid qop `{realm}' received: {uri}", (REALM, URI)),
        T("sni", "[{apache}] [ssl:error] [pid {pid}:tid 140000] [client {A}:{port}] AH02032: Hostname {sni} "
          "provided via SNI and hostname {host} provided via HTTP have no compatible SSL setup", (SNI, HOSTH)),
        T("wrong-scheme", HEAD + "AH01614: client used wrong authentication scheme: {uri}", (URI,)),
    ),
)
