"""banjail's reading of the fail2ban configuration dialect.

Public API: STOCK_DIR, load_filter, load_action, load_config (see banjail.config.load). Modules: ini (syntax,
merging, %(...)s), overlay (which files, config dir over the stock tree), tags (<tag>, name[args]), definition
(filter.d/action.d files), jail (jail.conf and fail2ban.conf), schema (the typed results).
"""

from banjail.config.load import STOCK_DIR, load_action, load_config, load_filter

__all__ = ["STOCK_DIR", "load_action", "load_config", "load_filter"]
