"""Apache error log: a request for a user directory that does not exist ("File does not exist: .../~user")."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape

PATH = Field("path", lambda t: hex_escape(t, quote=False), "root", "decoded request path after ~")

SERVICE = Service(
    filter="apache-nohome",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        Template("nohome",
                 "[{apache}] [core:error] [pid {pid}:tid 140000] [client {A}:{port}] AH00128: File does not exist: "
                 "/var/www/html/~{path}", (PATH,)),
        Template("nohome-22", "[Wed Nov 25 08:44:15 2026] [error] [client {A}] File does not exist: /home/~{path}",
                 (PATH,)),
    ),
)
