"""pam_unix 'authentication failure; logname=L uid=N euid=N tty=T ruser=R rhost=H[  user=U]' through any
service. ruser is PAM_RUSER (services such as vsftpd and dovecot set it to the client's login name), user= is
PAM_USER, written only for an existing account; pam_syslog writes both raw. rhost is PAM_RHOST: the address,
or a reverse name when the service resolves the client (vsftpd reverse_lookup_enable, telnetd), which the
client's own zone chooses."""

from __future__ import annotations

from ..spec import SYSLOG_FORMS, Field, Service, Template, no_crlf, ptr_name

RUSER = Field("ruser", no_crlf, "bob", "PAM_RUSER (the client's login name)")
USER = Field("user", no_crlf, "bob", "PAM_USER (the client's login name)")
NAME = ptr_name("PTR name as PAM_RHOST")
HEAD = "pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp "

SERVICE = Service(
    filter="pam-generic",
    daemon="vsftpd",
    prefixes=SYSLOG_FORMS,
    templates=(
        Template("ruser", HEAD + "ruser={ruser} rhost={A}", (RUSER,)),
        Template("ruser-user", HEAD + "ruser={ruser} rhost={A}  user={user}", (RUSER, USER)),
        Template("name", HEAD + "ruser=bob rhost={name}", (NAME,), ()),
        Template("proftpd", "(pam_unix) authentication failure; logname= uid=0 euid=0 tty= ruser= rhost={A}", ()),
    ),
    notes="A PTR name that is itself an address literal is not generated (names_only): no filter can tell it "
    "from an address; a service that resolves clients for PAM_RHOST should not do so (vsftpd: "
    "reverse_lookup_enable=NO).",
)
