"""Apache error log lines for files that do not exist (core AH00128, mod_cgi AH02811). The client comes
first; the path is the request's decoded URI mapped onto the document root, escaped by
ap_escape_errorlog_item; the referer is escaped the same way."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape

PATH = Field("path", lambda t: hex_escape(t, quote=False), "wp-login.php", "decoded request path")
REF = Field("ref", lambda t: hex_escape(t, quote=False), "http://example.org/", "Referer header")
HEAD = "[{apache}] [core:error] [pid {pid}:tid 140000] [client {A}:{port}] "

SERVICE = Service(
    filter="apache-botsearch",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        Template("not-exist", HEAD + "AH00128: File does not exist: /var/www/html/{path}", (PATH,)),
        Template("not-exist-referer",
                 "[Wed Nov 25 08:44:15 2026] [error] [client {A}] File does not exist: /var/www/{path}, referer: {ref}",
                 (PATH, REF)),
        Template("script-not-found",
                 "[{apache}] [cgi:error] [pid {pid}:tid 140000] [client {A}:{port}] AH02811: script not found or "
                 "unable to stat: /var/www/html/cgi-bin/php5{path}",
                 (Field("path", PATH.escape, "", PATH.what),)),
        Template("script-quoted", "[Wed Nov 25 08:44:16 2026] [error] [client {A}] script '/var/www/html/"
                 "wp-login.php{path}' not found or unable to stat", (Field("path", PATH.escape, "", PATH.what),)),
    ),
)
