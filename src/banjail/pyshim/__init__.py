"""A stand-in for the few names of upstream fail2ban's library that its helper scripts import.

This directory (not the package banjail.pyshim itself) is put first on the import path by `fail2ban-python` when
upstream's own library is not installed, so `from fail2ban.server.ipdns import DNSUtils, IPAddr` in a script
such as Debian's filter.d/ignorecommands/apache-fakegooglebot works. Nothing else imports it.
"""
