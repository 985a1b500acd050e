"""OpenVPN 2.x: '[CN/]A:port MESSAGE'. Before TLS authentication the prefix is the bare address; after it the
common name (or the username with username-as-common-name) comes first, which the client chooses; OpenVPN
replaces non-printable characters in it with '_' but keeps spaces and '/'. A certificate subject in VERIFY
ERROR lines is the client's too."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template


def _printable(text: str) -> str:
    return "".join(ch if " " <= ch <= "~" else "_" for ch in text)


CN = Field("cn", _printable, "alice", "certificate common name / username")
SUBJ = Field("subj", _printable, "CN=x", "certificate subject")

SERVICE = Service(
    filter="openvpn",
    daemon="ovpn-server",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("tls-error", "{A}:{port} TLS Error: TLS handshake failed", ()),
        Template("verify", "{A}:{port} VERIFY ERROR: depth=0, error=certificate has expired: {subj}", (SUBJ,)),
        Template("auth", "{A}:{port} TLS Auth Error: Auth Username/Password verification failed for peer", ()),
        Template("cn-bad-packet", "{cn}/{A}:{port} WARNING: Bad encapsulated packet length from peer (5), which "
                 "must be > 0 and <= 1627 -- please ensure that --tun-mtu or --link-mtu is equal on both peers",
                 (CN,)),
        Template("cn-tls-error", "{cn}/{A}:{port} TLS Error: TLS key negotiation failed to occur within 60 seconds "
                 "(check your network connectivity)", (CN,)),
    ),
)
