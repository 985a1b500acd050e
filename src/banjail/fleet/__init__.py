"""The fleet: bans shared across hosts through one Redis stream (issue 12).

    local ban ──► SQLite commit (the ban and, in the same transaction, its signed notice in the outbox)
              ──► hub's sender ──► XADD <stream> ──► every subscribing host's blocking XREAD
              ──► verify (HMAC-SHA256) ──► the host's own ignore rules ──► the jail's book and actions
              ──► SQLite commit (the bans it produced and the stream id read, one transaction)

Modules: settings (the [fleet] section and the per-jail `fleet` option), notice (the message, its canonical
encoding and signature), remote (how a verified notice becomes a local ban), counters (what the metrics read),
link (the Redis connection: the only module that imports `redis`), hub (the daemon side). Only link and hub need
the `redis` package (extra `banjail[fleet]`); a daemon without a [fleet] section imports neither.
"""
