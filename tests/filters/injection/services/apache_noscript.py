"""Apache error log: requests for scripts that do not exist (core, mod_cgi, mod_proxy_fcgi)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape

PATH = Field("path", lambda t: hex_escape(t, quote=False), "setup.php", "decoded request path")
HEAD = "[{apache}] [core:error] [pid {pid}:tid 140000] [client {A}:{port}] "

SERVICE = Service(
    filter="apache-noscript",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        Template("not-exist", HEAD + "AH00128: File does not exist: /var/www/html/{path}", (PATH,)),
        Template("script-quoted", "[Wed Nov 25 08:44:16 2026] [error] [client {A}] script '/var/www/html/{path}' "
                 "not found or unable to stat", (PATH,)),
        Template("script-not-found",
                 "[{apache}] [cgi:error] [pid {pid}:tid 140000] [client {A}:{port}] AH02811: script not found or "
                 "unable to stat: /usr/lib/cgi-bin/{path}", (PATH,)),
        Template("directory", HEAD + "AH01239: attempt to invoke directory as script: /usr/lib/cgi-bin/{path}",
                 (Field("path", PATH.escape, "", PATH.what),)),
        Template("fcgi", "[{apache}] [proxy_fcgi:error] [pid {pid}:tid 140000] [client {A}:{port}] AH01071: Got "
                 "error 'Primary script unknown'", ()),
    ),
)
