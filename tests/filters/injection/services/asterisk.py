"""Asterisk: chan_sip/PJSIP/IAX2/AMI NOTICE lines in its own log ('[DATE] NOTICE[TID] FILE.c: MESSAGE'). The SIP
From header, Call-ID, caller id and dialled extension, and IAX2/AMI user names are the client's, written as
received (no escaping; CR/LF end a SIP header)."""

from __future__ import annotations

from ..spec import Field, Prefix, Service, Template, no_crlf


def _asterisk(daemon: str, pid: int) -> str:
    return f"[2026-11-25 08:44:15] NOTICE[{pid}] "


def _asterisk_warning(daemon: str, pid: int) -> str:
    return f"[2026-11-25 08:44:15] WARNING[{pid}][C-00000b43] "


AST = Prefix("asterisk", _asterisk)
# FreePBX's from-sip-external context logs through the dialplan's Log() at WARNING level
AST_WARNING = Prefix("asterisk-warning", _asterisk_warning)
FROM = Field("from", no_crlf, "<sip:301@example.com>", "SIP From header")
CALLID = Field("callid", no_crlf, "276666022@10.0.0.1", "SIP Call-ID header")
CID = Field("cid", no_crlf, "anonymous", "caller id (From display name)")
EXTEN = Field("exten", no_crlf, "0123", "dialled extension (Request-URI user)")
PEER = Field("peer", no_crlf, "bob", "IAX2 user/peer name")
AMI = Field("ami", no_crlf, "admin", "AMI login name")

SERVICE = Service(
    filter="asterisk",
    daemon="asterisk",
    prefixes=(AST,),
    templates=(
        Template(
            "register",
            "chan_sip.c: Registration from '{from}' failed for '{A}:{port}' - Wrong password",
            (FROM,),
            families="4",
        ),
        Template(
            "register-6",
            "chan_sip.c: Registration from '{from}' failed for '[{A}]:{port}' - Wrong password",
            (FROM,),
            families="6",
        ),
        Template(
            "pjsip",
            "res_pjsip/pjsip_distributor.c: Request 'INVITE' from '{from}' failed for '{A}:{port}' "
            "(callid: {callid}) - No matching endpoint found",
            (FROM, CALLID),
            families="4",
        ),
        Template(
            "call",
            "chan_sip.c: Call from '{cid}' ({A}:{port}) to extension '{exten}' rejected because "
            "extension not found in context 'default'.",
            (CID, EXTEN),
            families="4",
        ),
        Template("iax-noreg", "chan_iax2.c: No registration for peer '{peer}' (from {A})", (PEER,)),
        Template("iax-auth", "chan_iax2.c: Host {A} failed to authenticate as '{peer}'", (PEER,)),
        Template("ami", "manager.c: {A} failed to authenticate as '{ami}'", (AMI,)),
        Template("ami-unknown", "manager.c: {A} tried to authenticate with nonexistent user '{ami}'", (AMI,)),
        Template("hacking", "chan_sip.c: hacking attempt detected '{A}'", ()),
        Template(
            "unknown-sip", 'Ext. s: "Rejecting unknown SIP connection from {A}"', (), prefixes=(AST_WARNING,)
        ),
    ),
    notes="res_security_log SECURITY events are not read by the filter (client values unescaped on both sides of "
    "RemoteAddress). PJSIP and call lines whose client fields forge the words before the address are not matched "
    "at all, so their controls use quote-free defaults.",
)
