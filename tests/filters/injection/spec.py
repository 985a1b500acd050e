"""The spec format of the log-injection generator: what a service writes, which parts of it the remote party
chooses, and how the service and the log transport escape those parts.

One module per stock filter, `services/<filter>.py`, defines `SERVICE = Service(...)`. The generator
(`generate.py`) renders every template of it, once per attacker-controlled field and payload, exactly as the
service would write it for a client at the ATTACKER's address whose field carries a payload naming a VICTIM.

Template text is the service's message with placeholders in braces, replaced once (a payload's own braces are
never read as placeholders):

    {A}      the connecting client's address as the service writes it (the attacker's)
    {port}   a client port            {pid}  the process id (one per case: sessions never merge across cases)
    {sess}   a server-made session/queue id
    {clf}    the date as "25/Nov/2026:08:44:15 +0000"   {apache} "Wed Nov 25 08:44:15.123456 2026"
    {iso}    "2026-11-25T08:44:15Z"   {ngx} "2026/11/25 08:44:15"   {syslog} "Nov 25 08:44:15"
    {name}   a field: the payload when the generator attacks it, else its `default`

A line is prefix + message: `Prefix.render(daemon, pid)` (empty for services that write their own files), and
`Prefix.transport` is the syslog daemon's escaping of the whole message (rsyslog: controls as #ooo; journald:
raw bytes). `Field.escape` is the service's own escaping of the raw bytes the client sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Escape = Callable[[str], str]


def raw(text: str) -> str:
    """No escaping: the bytes are written as received."""
    return text


@dataclass(frozen=True)
class Prefix:
    """How a line reaches the log file."""

    name: str
    render: Callable[[str, int], str]  # (daemon, pid) -> the text before the message
    transport: Escape = raw  # the log daemon's escaping of the whole message


@dataclass(frozen=True)
class Field:
    """A part of a line that the remote party chooses."""

    name: str  # placeholder name in the template text
    escape: Escape  # the service's escaping of what the client sent
    default: str = "x"  # the value when another field is attacked, and in the control line
    what: str = ""  # what it is: "user name", "URL", "HELO", ...
    # the same client text written again elsewhere in the line, each with its own escaping: (placeholder, escape)
    alias: tuple[tuple[str, Escape], ...] = ()
    # a DNS name the client's own zone chooses (a PTR record): a payload that is an address literal is not
    # generated, no filter can tell it from the address the service writes (services should not log
    # unconfirmed names; OpenSSH refuses numeric PTR records)
    names_only: bool = False


@dataclass(frozen=True)
class Template:
    """One line shape of the service."""

    name: str
    text: str  # the message after the prefix, with placeholders
    fields: tuple[Field, ...]
    # option sets (filter arguments) under which the control line must give a failure of the attacker; () =
    # the line is never a failure on its own (a helper that only names the address of its session)
    fails_under: tuple[dict[str, str], ...] = ({},)
    # other lines of the same session (same {pid}/{sess}), written before / after this one, unattacked
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    families: str = "46"  # the client address families the service writes in this shape ("4", "6", "46")
    prefixes: tuple[Prefix, ...] = ()  # how these lines reach the log, when not all of the service's prefixes


@dataclass(frozen=True)
class Service:
    """A stock filter's service: its templates and the filter arguments to run them under."""

    filter: str  # the stock filter's name
    daemon: str  # the program tag syslog writes
    prefixes: tuple[Prefix, ...]
    templates: tuple[Template, ...]
    option_sets: tuple[dict[str, str], ...] = ({},)  # each is run over every generated line
    notes: str = ""  # what the spec leaves out, and why
    controls: str = field(default="")  # the raw control characters the service writes unescaped, if any


# ---- escaping functions of real services -----------------------------------------------------------------------

def _octal(ch: str) -> str:
    return "".join(f"\\{b:03o}" for b in ch.encode("utf-8"))


def strnvis(text: str) -> str:
    """OpenSSH log.c: strnvis(VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL) over the message. Printable ASCII (spaces,
    ':' and ',' included) stays; '\\' doubles; \\n \\r \\t as C escapes; every other byte (controls, UTF-8)
    as \\ooo."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(_octal(ch))
    return "".join(out)


def question(text: str) -> str:
    """dovecot str_sanitize(), vsftpd vsf_sysutil_, postfix printable(): every control byte becomes '?'; UTF-8
    stays."""
    return "".join("?" if ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0 else ch for ch in text)


def hex_escape(text: str, *, quote: bool = True) -> str:
    """Apache ap_escape_logitem / nginx access log: '"' and '\\' backslashed, controls and bytes >= 0x7f as
    \\xHH."""
    out = []
    for ch in text:
        if (quote and ch == '"') or ch == "\\":
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def no_space(text: str) -> str:
    """Fields a protocol cannot carry a space (or control) in: an HTTP request target, a DNS name, a HELO
    parameter token. What a client sends is cut at the first space by the protocol parser."""
    return "".join(ch for ch in text.split(" ")[0] if ord(ch) > 0x20)


def json_string(text: str) -> str:
    """A JSON string body (Go encoding/json, traefik, vaultwarden): '"' '\\' and controls escaped, U+2028/9 as
    \\u2028 (Go escapes them), other text raw."""
    import json

    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def ngx_escape(text: str) -> str:
    """nginx access log (ngx_http_log_escape): '"', '\\', controls and bytes >= 0x7f as \\xHH; spaces kept."""
    out = []
    for ch in text:
        if ch in '"\\' or not " " <= ch <= "~":
            out.extend(f"\\x{b:02X}" for b in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def no_crlf(text: str) -> str:
    """A field of a line-based protocol (FTP USER, SMTP, IMAP, HTTP header): CR and LF end the command, so they
    never reach the field; every other byte is written raw."""
    return text.replace("\r", "").replace("\n", "")


def no_controls(text: str) -> str:
    """A field whose parser rejects control characters (an HTTP request target as nginx parses it)."""
    return "".join(ch for ch in text if " " <= ch != "\x7f")


def logfmt(text: str) -> str:
    """Grafana's logfmt value: bare when it has no space, '=', '"' or control, else quoted with Go's %q-like
    escapes."""
    if text and not any(ch in ' ="\\' or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return text
    return '"' + json_string(text) + '"'


def audit_acct(text: str) -> str:
    """Linux audit's acct= (audit_log_acct_message): quoted when every byte is printable ASCII without '"' or
    space, else the bytes in upper-case hex, unquoted."""
    if text and all("!" <= ch <= "~" and ch != '"' for ch in text):
        return f'"{text}"'
    return text.encode("utf-8").hex().upper()


def bind_name(text: str) -> str:
    """BIND's presentation of a query name: letters, digits, '-', '_', '.' kept, the specials '"();@$\\' as \\X,
    everything else (space, controls, UTF-8 bytes) as \\DDD."""
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in "-_./:*"):
            out.append(ch)
        elif ch in '"();@$\\':
            out.append("\\" + ch)
        else:
            out.extend(f"\\{b:03d}" for b in ch.encode("utf-8"))
    return "".join(out)


def dns_name(text: str) -> str:
    """A host name from a PTR record as the C library returns it (res_hnok): letters, digits, '-', '.', '_'
    only; other characters make the lookup fail, so the service writes the address instead ("unknown")."""
    name = "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in "-._"))
    return name or "unknown"


def exim_printing(text: str) -> str:
    """exim string_printing(): printable characters kept (spaces too), \\n \\r \\t as C escapes, other
    non-printing bytes as \\ooo."""
    out = []
    for ch in text:
        if " " <= ch <= "~":
            out.append(ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        else:
            out.append(_octal(ch))
    return "".join(out)


def rsyslog(text: str) -> str:
    """rsyslog's EscapeControlCharactersOnReceive: bytes < 0x20 and 0x7f as #ooo; UTF-8 passes raw (so U+0085,
    U+2028, U+2029 reach the file unescaped)."""
    return "".join(f"#{ord(ch):03o}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


def journald(text: str) -> str:
    """journald keeps raw bytes; banjail's journal source writes "\\n" inside a message as the two characters
    \\n (a raw newline would end the line in a file written from the journal)."""
    return text.replace("\n", "\\n")


# ---- prefixes ---------------------------------------------------------------------------------------------------

def _syslog(daemon: str, pid: int) -> str:
    return f"Nov 25 08:44:15 web1 {daemon}[{pid}]: "


def _iso(daemon: str, pid: int) -> str:
    return f"2026-11-25T08:44:15.921753+00:00 web1 {daemon}[{pid}]: "


def _bare(daemon: str, pid: int) -> str:
    return ""


SYSLOG = Prefix("syslog", _syslog, rsyslog)
ISO = Prefix("iso", _iso, rsyslog)
JOURNAL = Prefix("journal", _syslog, journald)  # journalctl -o short / a journal-written file: raw bytes
BARE = Prefix("bare", _bare, raw)  # the service writes its own file (apache, nginx, gitea, ...)
SYSLOG_FORMS = (SYSLOG, ISO, JOURNAL)

# The addresses the generator uses: documentation ranges only (RFC 5737 / RFC 3849).
ATTACKER4 = "203.0.113.66"
ATTACKER6 = "2001:db8:a77::66"
VICTIMS = ("198.51.100.7", "::ffff:198.51.100.7", "2001:db8:dead::7")
# What a failure id may not contain: each victim in its address and reverse-DNS spellings.
VICTIM_MARKS = ("198.51.100.7", "198-51-100-7", "7.100.51.198", "2001:db8:dead", "2001-db8-dead", "dead::7")


def helo_name(text: str) -> str:
    """A HELO/EHLO argument exim accepted: exim rejects one that is not a domain name or an address literal
    (helo_allow_chars empty, the default), so only those reach H=(...); anything else is logged as no HELO."""
    import re

    if re.fullmatch(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]", text):
        return text
    return dns_name(text)


def ptr_name(what: str = "PTR name of the client") -> Field:
    """The client's reverse name as a service writes it unconfirmed: the client's own zone chooses it."""
    return Field("name", dns_name, "client.example.net", what, names_only=True)
