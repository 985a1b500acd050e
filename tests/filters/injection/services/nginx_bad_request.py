"""nginx combined access log with status 400 (a request line nginx could not parse). The request line is the
client's, escaped by ngx_http_log_escape ('"' and '\\\\' and controls as \\xHH); so are user, referer and user
agent."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, ngx_escape

REQ = Field("req", ngx_escape, "HELP", "request line")
USER = Field("user", ngx_escape, "-", "Basic auth user")
REF = Field("ref", ngx_escape, "-", "Referer header")
UA = Field("ua", ngx_escape, "-", "User-Agent header")

SERVICE = Service(
    filter="nginx-bad-request",
    daemon="nginx",
    prefixes=(BARE,),
    templates=(
        Template("bad-request", '{A} - {user} [{clf}] "{req}" 400 157 "{ref}" "{ua}"', (REQ, USER, REF, UA)),
    ),
)
