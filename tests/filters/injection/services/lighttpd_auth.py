"""lighttpd mod_auth (error log): 'DATE: (mod_auth.c.N) password doesn't match for URL username: U, IP: A', the
digest and get_password forms. The URL path and the user name (from the Authorization header) are the
client's, both before the address."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_crlf, no_space

URL = Field("url", no_space, "/secure/", "request path")
USER = Field("user", no_crlf, "bob", "user name (Authorization: Basic, decoded)")
DUSER = Field("duser", no_crlf, "bob", "user name (Authorization: Digest username=)")
D = "2026-11-25 08:44:15: "

SERVICE = Service(
    filter="lighttpd-auth",
    daemon="lighttpd",
    prefixes=(BARE,),
    templates=(
        Template("basic", D + "(mod_auth.c.525) password doesn't match for {url} username: {user}, IP: {A}",
                 (URL, USER)),
        Template("basic-1.4.60", D + "(mod_auth.c.828) password doesn't match for {url} username: {user} IP: {A}",
                 (URL, USER)),
        Template("digest", D + "(mod_auth.c.791) digest: auth failed for  {duser} : wrong password, IP: {A}",
                 (DUSER,)),
        Template("no-user", D + "(http_auth.c.877) get_password failed, IP: {A}", ()),
    ),
)
