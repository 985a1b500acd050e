"""banjail: a drop-in reimplementation of fail2ban."""

__version__ = "0.1.0"
# The version string upstream's tools and scripts parse; banjail answers as a fail2ban of this version.
FAIL2BAN_COMPAT_VERSION = "1.0.2"
