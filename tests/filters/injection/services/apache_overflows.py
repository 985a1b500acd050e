"""Apache error log: malformed or oversized requests (core AH00126, AH00565, AH00567)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape

REQ = Field("req", lambda t: hex_escape(t, quote=False), "GET /%%% HTTP/1.1", "request line")

SERVICE = Service(
    filter="apache-overflows",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        Template("invalid-uri", "[{apache}] [core:error] [pid {pid}:tid 140000] [client {A}:{port}] AH00126: "
                 "Invalid URI in request {req}", (REQ,)),
        Template("invalid-uri-22", "[Wed Nov 25 08:44:15 2026] [error] [client {A}] Invalid URI in request {req}",
                 (REQ,)),
        Template("too-long", "[Wed Nov 25 08:44:17 2026] [error] [client {A}] request failed: URI too long (longer "
                 "than 8190)", ()),
        Template("field-size", "[{apache}] [core:info] [pid {pid}:tid 140000] [client {A}:{port}] AH00561: Request "
                 "header exceeds LimitRequestFieldSize: {req}", (REQ,)),
        Template("server-limit", "[Wed Nov 25 08:44:18 2026] [error] [client {A}] Size of a request header field "
                 "exceeds server limit.", ()),
        Template("headers", "[{apache}] [core:info] [pid {pid}:tid 140000] [client {A}:{port}] AH00567: request "
                 "failed: error reading the headers", ()),
    ),
)
