"""banjail's reading of the fail2ban configuration dialect (see ini, overlay, tags, definition, load, jail)."""

from banjail.config.overlay import STOCK_DIR

__all__ = ["STOCK_DIR"]
