"""Exim 4 main log ('date [pid] [msgid] H=name (helo) [A]:port I=[L]:25 F=<sender> rejected RCPT <rcpt>: ...').
The HELO name, sender, recipient and SMTP AUTH set_id are the client's; exim writes them through
string_printing() (printable bytes kept, spaces included; others as \\ooo)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, exim_printing, helo_name, ptr_name

HELO = Field("helo", helo_name, "example.com", "HELO/EHLO argument (syntax-checked by exim)")
SENDER = Field("sender", exim_printing, "a@example.com", "MAIL FROM address")
RCPT = Field("rcpt", exim_printing, "x@example.net", "RCPT TO address")
SETID = Field("setid", exim_printing, "bob", "AUTH user name (set_id)")
INPUT = Field("input", exim_printing, "QUIT\r\n", "the pipelined input exim shows")
CMD = Field("cmd", exim_printing, "AUTH LOGIN", "the last SMTP command")
NAME = ptr_name("PTR name of the client")
D = "2026-11-25 08:44:15 "

T = Template
SERVICE = Service(
    filter="exim",
    daemon="exim",
    prefixes=(BARE,),
    option_sets=({}, {"mode": "aggressive"}),
    templates=(
        T("relay", D + "H=({helo}) [{A}]:{port} I=[203.0.113.1]:25 F=<{sender}> rejected RCPT <{rcpt}>: relay not "
          "permitted", (HELO, SENDER, RCPT), ({}, {"mode": "aggressive"})),
        T("unknown-user", D + "[4242] H=mail.example.com ({helo}) [{A}] F=<{sender}> rejected RCPT <{rcpt}>: "
          "Unknown user", (HELO, SENDER, RCPT), ({}, {"mode": "aggressive"})),
        T("auth", D + "dovecot_login authenticator failed for ({helo}) [{A}]:{port} I=[203.0.113.1]:587: 535 "
          "Incorrect authentication data (set_id={setid})", (HELO, SETID), ({}, {"mode": "aggressive"})),
        T("dropped", D + "SMTP call from ({helo}) [{A}]:{port} I=[203.0.113.1]:25 dropped: too many syntax or "
          'protocol errors (last command was "{cmd}")', (HELO, CMD), ({}, {"mode": "aggressive"})),
        T("sender-verify", D + "H=({helo}) [{A}] sender verify fail for <{sender}>: Unrouteable address",
          (HELO, SENDER), ({}, {"mode": "aggressive"})),
        T("sync", D + "SMTP protocol synchronization error (input sent without waiting for greeting): rejected "
          'connection from H=[{A}]:{port} I=[203.0.113.1]:25 input="{input}"', (INPUT,), ({}, {"mode": "aggressive"})),
        T("protocol-error", D + 'SMTP protocol error in "{cmd}" H=({helo}) [{A}]:{port} I=[203.0.113.1]:25 AUTH '
          "command used when not advertised", (CMD, HELO), ({}, {"mode": "aggressive"})),
        T("rejected-mail", D + "H=({helo}) [{A}]:{port} I=[203.0.113.1]:25 rejected MAIL <{sender}>: Sender verify "
          "failed", (HELO, SENDER), ({}, {"mode": "aggressive"})),
        T("no-mail", D + "no MAIL in SMTP connection from ({helo}) [{A}]:{port} I=[203.0.113.1]:25 D=10s C=EHLO,QUIT",
          (HELO,), ({}, {"mode": "aggressive"})),
        T("drop", D + "SMTP connection from ({helo}) [{A}]:{port} I=[203.0.113.1]:25 closed by DROP in ACL", (HELO,),
          ({}, {"mode": "aggressive"})),
        T("no-ip-for-host", D + "no IP address found for host {name} (during SMTP connection from [{A}])", (NAME,),
          ({"mode": "aggressive"},)),
        T("sync-pipelining", D + "SMTP protocol synchronization error (next input sent too soon: pipelining was not "
          'advertised): rejected "{cmd}" H=({helo}) [{A}]:{port} I=[203.0.113.1]:25 next input="{input}"',
          (CMD, HELO, INPUT), ({}, {"mode": "aggressive"})),
        T("no-host-name", D + "no host name found for IP address {A}", (), ({"mode": "aggressive"},)),
    ),
)
