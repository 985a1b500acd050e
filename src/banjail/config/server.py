"""fail2ban.conf's server options into a typed ServerConfig."""

from __future__ import annotations

from banjail.config.ini import Tree
from banjail.config.schema import ServerConfig
from banjail.config.values import Reader, listen_address
from banjail.errors import Problem

# The fail2ban.conf options upstream's client sends (`-d` prints them as written).
SERVER_OPTIONS = (
    "loglevel",
    "logtarget",
    "syslogsocket",
    "allowipv6",
    "dbfile",
    "dbmaxmatches",
    "dbmaxfailures",
    "dbpurgeage",
)


def read_server(tree: Tree, problems: list[Problem], lenient: bool) -> ServerConfig:
    """The server options of fail2ban.conf's [Definition] (and `stacksize` of [Thread]), each absent one at
    ServerConfig's default; a bad value is appended to `problems` (a warning when `lenient`, as upstream's
    client treats it) and its default stands in. `texts` holds SERVER_OPTIONS as written, in that order."""
    reader = Reader(tree, "Definition", problems, lenient)
    base = ServerConfig()
    return ServerConfig(
        loglevel=reader.text("loglevel", base.loglevel),
        logtarget=reader.text("logtarget", base.logtarget),
        syslogsocket=reader.text("syslogsocket", base.syslogsocket),
        socket=reader.text("socket", base.socket),
        pidfile=reader.text("pidfile", base.pidfile),
        dbfile=reader.text("dbfile", base.dbfile),
        dbpurgeage=reader.seconds("dbpurgeage", base.dbpurgeage),
        dbmaxmatches=reader.integer("dbmaxmatches", base.dbmaxmatches),
        dbmaxfailures=reader.integer("dbmaxfailures", base.dbmaxfailures),
        allowipv6=reader.text("allowipv6", base.allowipv6),
        metrics=reader.typed("metrics", "", listen_address, "a listen address").strip(),
        metrics_textfile=reader.text("metrics_textfile", "").strip(),
        metrics_interval=reader.seconds("metrics_interval", base.metrics_interval),
        texts=tuple((o, v) for o in SERVER_OPTIONS if (v := reader.optional(o)) is not None),
        stacksize=Reader(tree, "Thread", []).optional("stacksize"),
    )
