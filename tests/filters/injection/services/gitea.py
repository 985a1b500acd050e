"""Gitea/Forgejo router log: 'date ...auth.go:194:SignInPost() [I] Failed authentication attempt for U from
A:port: REASON [uid: N, name: U]'. The login name is written twice, raw (Go %s): after "for" and inside the
error's bracket. IPv6 clients are written "[addr]:port" (left out here, see notes)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, no_crlf

USER = Field("user", no_crlf, "bob", "login name (form field)", alias=(("name", no_crlf),))

SERVICE = Service(
    filter="gitea",
    daemon="gitea",
    prefixes=(BARE,),
    templates=(
        Template("not-exist", "{ngx} ...s/web/auth/auth.go:194:SignInPost() [I] Failed authentication attempt for "
                 "{user} from {A}:{port}: user does not exist [uid: 0, name: {name}]", (USER,), families="4"),
        Template("bad-password", "{ngx} ...s/web/auth/auth.go:194:SignInPost() [I] Failed authentication attempt "
                 "for {user} from {A}:{port}: user's password is invalid [uid: 3, name: {name}]", (USER,),
                 families="4"),
    ),
    notes="IPv6 clients ('[2001:db8::1]:port') are not generated. The address is Gitea's RemoteAddr, which "
    "follows X-Forwarded-For only behind a configured reverse proxy.",
)
