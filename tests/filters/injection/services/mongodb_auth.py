"""MongoDB: the JSON log of 4.4+ ('"msg":"Authentication failed","attr":{...,"principalName":U,
"authenticationDatabase":DB,"remote":"A:PORT",...}', strings JSON-escaped) and the text log of older servers
(a failure line naming the user, then the connection's own 'end connection A:PORT' line)."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, json_string, no_crlf

USER = Field("user", json_string, "root", "principalName (saslStart payload)")
DB = Field("db", json_string, "admin", "authenticationDatabase (the command's $db)")
TUSER = Field("tuser", no_crlf, "root", "user@db as the text log writes it")
J = ('{"t":{"$date":"2026-11-25T08:44:15.111+00:00"},"s":"I",  "c":"ACCESS",   "id":20249,   "ctx":"conn{pid}",'
     '"msg":"Authentication failed","attr":{"mechanism":"SCRAM-SHA-256","speculative":false,"principalName":'
     '"{user}","authenticationDatabase":"{db}","remote":')
E = '"extraInfo":{},"error":"AuthenticationFailed: SCRAM authentication failed, storedKey mismatch"}}'
T = "2026-11-25T08:44:15.110+0000 [conn{pid}] "

SERVICE = Service(
    filter="mongodb-auth",
    daemon="mongod",
    prefixes=(BARE,),
    templates=(
        Template("json", J + '"{A}:{port}",' + E, (USER, DB), families="4"),
        Template("json-6", J + '"[{A}]:{port}",' + E, (USER, DB), families="6"),
        Template("text", T + "Failed to authenticate {tuser} with mechanism MONGODB-CR: AuthenticationFailed "
                 "UserNotFound Could not find user {tuser}", (TUSER,), (),
                 after=(T + "end connection {A}:{port} (0 connections now open)",), families="4"),
    ),
    notes="The text form's failure line names no address; the generator attacks its user field, and the "
    "session's address comes from mongod's own end-connection line.",
)
