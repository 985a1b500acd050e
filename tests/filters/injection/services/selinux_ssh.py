"""Linux audit USER_AUTH / USER_ERR records of sshd: "type=USER_AUTH msg=audit(T:N): pid=P uid=0 auid=A ses=S
subj=...:sshd_t:... msg='op=password acct=ACCT exe="/usr/sbin/sshd" hostname=H addr=A terminal=ssh
res=failed'". acct is the user name, quoted when plain printable ASCII, else hex (audit_log_acct_message);
hostname is sshd's forward-confirmed name or '?'."""

from __future__ import annotations

from ..spec import BARE, Field, Service, Template, audit_acct

ACCT = Field("acct", audit_acct, "root", "user name")
HEAD = "type=USER_AUTH msg=audit(1795596255.000:4063): pid=4242 uid=0 auid=4294967295 ses=4294967295 "
SUBJ = "subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg="

SERVICE = Service(
    filter="selinux-ssh",
    daemon="audit",
    prefixes=(BARE,),
    templates=(
        Template("password", HEAD + SUBJ + "'op=password acct={acct} exe=\"/usr/sbin/sshd\" hostname=? addr={A} "
                 "terminal=ssh res=failed'", (ACCT,)),
        Template("bad-ident", "type=USER_ERR msg=audit(1795596256.123:4064): pid=4243 uid=0 auid=4294967295 "
                 "ses=4294967295 " + SUBJ + "'op=PAM:bad_ident acct={acct} exe=\"/usr/sbin/sshd\" hostname=? "
                 "addr={A} terminal=ssh res=failed'", (ACCT,)),
    ),
)
