"""banjail's stand-in for upstream's `fail2ban.server` package (helper scripts only)."""
