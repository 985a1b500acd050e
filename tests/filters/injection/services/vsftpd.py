"""vsftpd (vsftpd_log_file / xferlog_std_format=NO): 'DATE [pid N] [U] FAIL LOGIN: Client "A"' with
IPv4 clients IPv4-mapped when listen_ipv6; and pam_unix through vsftpd (ruser = the USER argument). vsftpd
writes the user through vsf_sysutil (non-printable bytes become '?')."""

from __future__ import annotations

from ..spec import BARE, SYSLOG_FORMS, Field, Service, Template, no_crlf, ptr_name, question

USER = Field("user", question, "bob", "USER argument")
NAME = ptr_name("PTR name as PAM_RHOST (reverse_lookup_enable)")
RUSER = Field("ruser", no_crlf, "bob", "PAM_RUSER (the USER argument)")
D = "Wed Nov 25 08:44:15 2026 [pid {pid}] "

SERVICE = Service(
    filter="vsftpd",
    daemon="vsftpd",
    prefixes=(BARE, *SYSLOG_FORMS),
    templates=(
        Template("fail", D + '[{user}] FAIL LOGIN: Client "{A}"', (USER,), prefixes=(BARE,)),
        Template("fail-mapped", D + '[{user}] FAIL LOGIN: Client "::ffff:{A}"', (USER,), families="4",
                 prefixes=(BARE,)),
        Template("pam", "pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser={ruser} "
                 "rhost={A}", (RUSER,), prefixes=SYSLOG_FORMS),
        Template("pam-name", "pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp "
                 "ruser=bob rhost={name}", (NAME,), (), prefixes=SYSLOG_FORMS),
    ),
)
