"""nginx error log of ngx_http_limit_req_module: 'limiting requests, excess: N by zone "Z", client: A, ...'.
The zone is configuration; request, host and referrer are the client's (unescaped, no CR/LF)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_controls, no_crlf

URI = Field("uri", lambda t: no_controls(t).replace(" ", ""), "/api/login", "request target")
HOST = Field("host", no_crlf, "example.org", "Host header")
REF = Field("ref", no_crlf, "https://example.org/", "Referer header")

SERVICE = Service(
    filter="nginx-limit-req",
    daemon="nginx",
    prefixes=(BARE,),
    templates=(
        Template("limit", '{ngx} [error] 812#812: *{pid} limiting requests, excess: 10.420 by zone "api", client: '
                 '{A}, server: example.org, request: "POST {uri} HTTP/1.1", host: "{host}", referrer: "{ref}"',
                 (URI, HOST, REF)),
    ),
)
