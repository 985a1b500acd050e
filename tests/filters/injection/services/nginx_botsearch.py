"""nginx error log for files that do not exist (open() failed / is not found) and the combined access log
with status 404. The error line holds the client's path twice: percent-decoded in 'open() "PATH"' and raw in
'request: "GET URI HTTP/1.1"'; nginx writes both unescaped. The access log escapes '"', '\\\\' and controls
as \\xHH."""

from __future__ import annotations

from urllib.parse import unquote

from ..spec import BARE, Field, Service, Template, ngx_escape, no_controls, no_crlf


def _decoded(text: str) -> str:
    return unquote(text).replace("\n", "").replace("\x00", "")


def _target(text: str) -> str:
    return no_controls(text).replace(" ", "%20")


PATH = Field("path", _decoded, ".env", "request path (decoded)", alias=(("uri", _target),))
HOST = Field("host", no_crlf, "example.org", "Host header")
URL = Field("url", ngx_escape, "wp-login.php", "request target (access log)")
REF = Field("ref", ngx_escape, "-", "Referer header")
UA = Field("ua", ngx_escape, "Mozilla/5.0", "User-Agent header")
TAIL = ', client: {A}, server: example.org, request: "GET /{uri} HTTP/1.1", host: "{host}"'

SERVICE = Service(
    filter="nginx-botsearch",
    daemon="nginx",
    prefixes=(BARE,),
    templates=(
        Template("open-failed", '{ngx} [error] 812#812: *{pid} open() "/var/www/html/{path}" failed (2: No such '
                 'file or directory)' + TAIL, (PATH, HOST)),
        Template("not-found", '{ngx} [error] 812#812: *{pid} "/usr/share/nginx/html/{path}" is not found (2: No '
                 'such file or directory)' + TAIL, (PATH, HOST)),
        Template("access-404", '{A} - - [{clf}] "GET /{url} HTTP/1.1" 404 153 "{ref}" "{ua}"', (URL, REF, UA)),
    ),
)
