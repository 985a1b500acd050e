"""banjail's reading of the fail2ban configuration dialect.

Public API: STOCK_DIR, load_filter, load_action, load_config (see banjail.config.load). Modules: ini (syntax,
merging, %(...)s), overlay (which files, config dir over the stock tree), tags (<tag>, name[args]), definition
(filter.d/action.d files), jail (jail.conf and fail2ban.conf), schema (the typed results).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banjail.config.load import STOCK_DIR, load_action, load_config, load_filter

__all__ = ["STOCK_DIR", "load_action", "load_config", "load_filter"]


def __getattr__(name: str) -> object:
    # The loaders are imported on first use (PEP 562): importing any banjail.config module runs this file first,
    # and fail2ban-regex reads one filter without the jail.conf machinery that load_config brings.
    if name in __all__:
        from banjail.config import load

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
