"""Apache/nginx combined access log: 'A ident user [date] "request" status bytes "referer" "user-agent"'. The
client address is the first token, written by the server; request, user, referer and user agent are escaped
by ap_escape_logitem ('"' and '\\\\' backslashed, controls as \\xHH)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, hex_escape, ptr_name

REQ = Field("req", hex_escape, "GET /contact.html HTTP/1.1", "request line")
REF = Field("ref", hex_escape, "-", "Referer header")
UA = Field("ua", hex_escape, "Mozilla/4.0 (compatible; EmailSiphon)", "User-Agent header")
USER = Field("user", hex_escape, "-", "Basic auth user")
# with HostnameLookups On, Apache writes %h as the client's reverse name, unconfirmed: the client's zone chooses it
NAME = ptr_name("PTR name as %h (HostnameLookups On)")

SERVICE = Service(
    filter="apache-badbots",
    daemon="apache2",
    prefixes=(BARE,),
    templates=(
        Template("access", '{A} - {user} [{clf}] "{req}" 200 5120 "{ref}" "{ua}"', (REQ, REF, UA, USER)),
        Template("access-name", '{name} - - [{clf}] "GET / HTTP/1.1" 200 5120 "-" "EmailSiphon"', (NAME,), ()),
    ),
)
