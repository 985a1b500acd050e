"""`banjail audit`: whether a filter can be aimed, i.e. whether text a client writes into a log line can make the
filter capture an address of the client's choosing (see banjail.audit.auditor)."""
