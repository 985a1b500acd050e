"""The log-injection generator over the stock filters (see README.md beside this file)."""
