"""Traefik access log in Common Log Format with traefik's extra fields: 'A - U [date] "METHOD URI PROTO"
status size "referer" "user agent" N "router" "backend" Nms'. The Basic auth user, the request target,
referer and user agent are the client's; traefik writes them without escaping (Go %s)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_controls, no_crlf

USER = Field("user", no_crlf, "bob", "Basic auth user")
URI = Field("uri", lambda t: no_controls(t).replace(" ", ""), "/api/", "request target")
REF = Field("ref", no_crlf, "-", "Referer header")
UA = Field("ua", no_crlf, "curl/8.5.0", "User-Agent header")
NOUSER: tuple[dict[str, str], ...] = ({"mode": "ddos"}, {"mode": "aggressive"})

SERVICE = Service(
    filter="traefik-auth",
    daemon="traefik",
    prefixes=(BARE,),
    option_sets=({}, {"mode": "ddos"}, {"mode": "aggressive"}),
    templates=(
        Template("user", '{A} - {user} [{clf}] "GET {uri} HTTP/1.1" 401 17 "{ref}" "{ua}" 73 "api@file" '
                 '"http://10.0.0.5:8080" 1ms', (USER, URI, REF, UA), ({}, {"mode": "aggressive"})),
        Template("no-user", '{A} - - [{clf}] "GET {uri} HTTP/2.0" 401 17 "{ref}" "{ua}" 72 "dashboard@docker" '
                 '"-" 0ms', (URI, REF, UA), NOUSER),
    ),
)
