"""HAProxy's HTTP log (option httplog) through syslog: 'A:PORT [DATE] FRONTEND BACKEND/<NOSRV> TIMERS 401 ...
{CAPTURED HEADERS} "REQUEST LINE"'. The client chooses the request line and the captured headers, both after
the status; HAProxy writes '"', '#', '{', '|', '}' and controls in them as #XX."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template


def haproxy_escape(text: str) -> str:
    """HAProxy's log encoding of header captures and the request line: '"' '#' '{' '|' '}', controls and
    bytes >= 0x7f as #XX (hex)."""
    out = []
    for ch in text:
        if ch in '"#{|}' or not " " <= ch <= "~":
            out.extend(f"#{b:02X}" for b in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


REQUEST = Field("req", haproxy_escape, "GET / HTTP/1.1", "HTTP request line")
HEADER = Field("hdr", haproxy_escape, "example.com", "a captured request header (capture request header Host)")
LINE = ("{A}:{port} [25/Nov/2026:08:44:15.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "
        "{{hdr}} \"{req}\"")

SERVICE = Service(
    filter="haproxy-http-auth",
    daemon="haproxy",
    prefixes=SYSLOG_FORMS,
    templates=(Template("auth-401", LINE, (REQUEST, HEADER)),),
    notes="IPv6 clients are written without brackets before ':PORT', as HAProxy does.",
)
