"""Reusable end-to-end fixtures: a namespace network, a private server host with sshd and mail, banjail in it.

netns.py             Lab: server + client namespaces on a bridge (10.78.0.0/24)
serverhost.py        ServerHost: private /run, /dev, /etc and PID namespace inside the server namespace
sshd.py              sshd with a password-login test user, logging through rsyslogd to a file or to journald
site.py              SeedSite: the lab, server host and sshd opened and closed together
client.py            the programs clients run: TCP probe, probe watch, SSH password logins (paramiko)
clients.py           the test-side wrappers that run client.py inside a client namespace
smtpsink.py          the SMTP server program (aiosmtpd) that records what it receives
mail.py              the sink on the server host's loopback, msmtp as its sendmail, a resolver that hangs
banjail.py           fail2ban-server (banjail's, or upstream's for comparison) in the server host, its client
firewall.py          what the server namespace's nftables/iptables hold
testjail.py          a jail `test` on a log the test appends dated lines to
poll.py              a bounded poll
measure_upstream.py  (run explicitly) upstream fail2ban in the same lab with action_mwl while DNS hangs
"""
