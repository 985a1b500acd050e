"""banjail's stand-in for upstream's `fail2ban` package (helper scripts only; see banjail.pyshim)."""

__version__ = "1.0.2"
