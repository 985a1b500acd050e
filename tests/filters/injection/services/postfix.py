"""Postfix smtpd/postscreen. The client is written 'name[A]' where name is a forward-confirmed reverse name
(valid_hostname: letters, digits, '-', '.', '_') or 'unknown'. After it come the client's own words: the
recipient (twice), the sender and the HELO name, written through printable() (controls become '?'), and for
pipelining errors the text the client sent."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, question

RCPT = Field("rcpt", question, "x@example.net", "RCPT TO address", alias=(("rcpt2", question),))
SENDER = Field("sender", question, "a@example.com", "MAIL FROM address")
HELO = Field("helo", question, "example.com", "HELO/EHLO argument")
MORE: tuple[dict[str, str], ...] = ({}, {"mode": "more"}, {"mode": "aggressive"})
REJ = "NOQUEUE: reject: RCPT from unknown[{A}]: "

T = Template
SERVICE = Service(
    filter="postfix",
    daemon="postfix/smtpd",
    prefixes=SYSLOG_FORMS,
    option_sets=({}, {"mode": "aggressive"}, {"mode": "ddos"}),
    templates=(
        T("relay", REJ + "554 5.7.1 <{rcpt}>: Relay access denied; from=<{sender}> to=<{rcpt2}> proto=ESMTP "
          "helo=<{helo}>", (RCPT, SENDER, HELO), MORE),
        T("recipient", REJ + "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox "
          "table; from=<{sender}> to=<{rcpt2}> proto=ESMTP helo=<{helo}>", (RCPT, SENDER, HELO), MORE),
        T("helo", "NOQUEUE: reject: EHLO from unknown[{A}]: 504 5.5.2 <{helo}>: Helo command rejected: need "
          "fully-qualified hostname; proto=SMTP helo=<{helo}>", (HELO,), MORE),
        T("rbl", REJ + "554 5.7.1 Service unavailable; Client host [{A}] blocked using zen.spamhaus.org; "
          "from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{helo}>", (RCPT, SENDER, HELO), MORE),
        T("disconnect", "disconnect from unknown[{A}] ehlo=1 auth=0/1 quit=1 commands=2/3", (),
          ({"mode": "aggressive"}, {"mode": "ddos"})),
        T("pregreet", "PREGREET 11 after 0.1 from [{A}]:{port}: {helo}", (HELO,),
          ({"mode": "aggressive"}, {"mode": "ddos"})),
        T("sasl", "warning: unknown[{A}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", (),
          ({}, {"mode": "aggressive"})),
        T("pipelining", "improper command pipelining after AUTH from unknown[{A}]: {helo}", (HELO,),
          ({}, {"mode": "normal"}, {"mode": "aggressive"}, {"mode": "errors"})),
        T("lost", "lost connection after AUTH from unknown[{A}]", (), ({"mode": "aggressive"}, {"mode": "ddos"})),
    ),
)
