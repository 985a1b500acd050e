"""Reusable end-to-end fixtures: a namespace network, a private server host with sshd and mail, banjail in it.

netns.py       Lab: server + client namespaces on a bridge (10.78.0.0/24)
serverhost.py  ServerHost: private /run, /dev, /etc and PID namespace inside the server namespace
sshd.py        rsyslogd + sshd with a password-login test user, logging to a file
client.py      the programs clients run: TCP probe, probe watch, SSH password logins (paramiko)
clients.py     the test-side wrappers that run client.py inside a client namespace
mail.py        an aiosmtpd sink on the server host's loopback, msmtp as its sendmail, a resolver that hangs
banjail.py     banjail's fail2ban-server inside the server host, its client, kill -9 and restart
firewall.py    what the server namespace's nftables/iptables hold
"""
