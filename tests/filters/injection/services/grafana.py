"""Grafana (logfmt): 'logger=context userId=0 orgId=0 uname=U t=DATE level=error msg="Invalid username or
password" error="..." remote_addr=A traceID=' (9.x+) and the older 't=DATE lvl=eror msg=... uname=U error=...
remote_addr=A'. logfmt quotes a value holding a space, '=' or '"' and escapes inside the quotes."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, logfmt

UNAME = Field("uname", logfmt, "bob", "login name")

SERVICE = Service(
    filter="grafana",
    daemon="grafana",
    prefixes=(BARE,),
    templates=(
        Template("new", 'logger=context userId=0 orgId=0 uname={uname} t=2026-11-25T08:44:15.12+00:00 level=error '
                 'msg="Invalid username or password" error="invalid username or password" remote_addr={A} traceID=',
                 (UNAME,)),
        Template("old", 't=2026-11-25T08:44:16+0000 lvl=eror msg="Invalid username or password" logger=context '
                 'userId=0 orgId=0 uname={uname} error="invalid username or password" remote_addr={A}', (UNAME,)),
    ),
    notes="remote_addr is Grafana's idea of the client: behind a proxy it follows X-Forwarded-For, which the "
    "proxy must overwrite; that is configuration, not log text.",
)
