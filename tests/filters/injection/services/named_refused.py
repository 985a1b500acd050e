"""BIND named security/query-errors lines: 'client @0x... A#port (QNAME): query (cache) 'QNAME/TYPE/CLASS'
denied'. The query name is the client's, in BIND's presentation form (specials backslashed, space and
non-printing bytes as \\DDD)."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, bind_name

QNAME = Field("qname", bind_name, "example.org", "query name", alias=(("qname2", bind_name),))

SERVICE = Service(
    filter="named-refused",
    daemon="named",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("query-cache", "client @0x7f1c2b0a4168 {A}#{port} ({qname}): query (cache) '{qname2}/ANY/IN' "
                 "denied (allow-query-cache did not match)", (QNAME,)),
        Template("query", "client {A}#{port}: query '{qname}/A/IN' denied", (QNAME,)),
        Template("axfr", "client @0x7f1c2b0a4168 {A}#{port} ({qname}): zone transfer '{qname2}/AXFR/IN' denied",
                 (QNAME,)),
        Template("update", "client @0x7f1c2b0a4168 {A}#{port} ({qname}): view external: update '{qname2}/IN' "
                 "denied", (QNAME,)),
        Template("notauth", "client @0x7f1c2b0a4168 {A}#{port} ({qname}): bad zone transfer request: '{qname2}/IN': "
                 "non-authoritative zone (NOTAUTH)", (QNAME,)),
    ),
)
