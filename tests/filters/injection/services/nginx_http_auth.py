"""nginx error log, ngx_http_auth_basic_module: 'date [error] pid#tid: *conn user "U" was not found in
"file", client: A, server: S, request: "R", host: "H"[, referrer: "F"]'. nginx writes its error log without
escaping: the user is the base64-decoded credential up to its first ':' (any byte but ':'; a raw LF in it
would end the line in the file and is left out, see notes), the request line has no controls (the parser
rejects them), host and referrer are header values (no CR/LF)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_controls, no_crlf


def _user(text: str) -> str:
    return text.split(":")[0].replace("\n", "")


USER = Field("user", _user, "bob", "Basic auth user (decoded, raw)")
URI = Field("uri", lambda t: no_controls(t).replace(" ", ""), "/admin/", "request target")
HOST = Field("host", no_crlf, "example.org", "Host header")
REF = Field("ref", no_crlf, "https://example.org/", "Referer header")
TAIL = ', client: {A}, server: example.org, request: "GET {uri} HTTP/1.1", host: "{host}"'

T = Template
SERVICE = Service(
    filter="nginx-http-auth",
    daemon="nginx",
    prefixes=(BARE,),
    templates=(
        T("not-found", '{ngx} [error] 812#812: *{pid} user "{user}" was not found in "/etc/nginx/.htpasswd"' + TAIL,
          (USER, URI, HOST)),
        T("mismatch", '{ngx} [error] 812#812: *{pid} user "{user}": password mismatch' + TAIL + ', referrer: "{ref}"',
          (USER, URI, HOST, REF)),
        T("no-user", "{ngx} [error] 812#812: *{pid} no user/password was provided for basic authentication" + TAIL,
          (URI, HOST)),
    ),
    notes="nginx writes the decoded user name raw: a user holding LF writes a whole forged line of its own, "
    "which no filter can tell from nginx's (left out; mitigation: auth_basic behind a module that rejects such "
    "names, or the access log).",
    controls="every byte but LF and ':' in the user name",
)
