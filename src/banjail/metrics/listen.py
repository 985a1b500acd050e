"""The `metrics` option's listen address (pure: config validation reads it without asyncio)."""

from __future__ import annotations

from banjail.errors import ConfigError, Problem


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:9191`, `[::1]:9191` or `:9191` (all addresses) -> (host, port); ConfigError otherwise."""
    value = text.strip()
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            Problem(
                "is not a listen address",
                section="Definition",
                option="metrics",
                value=text,
                fix="write HOST:PORT, e.g. 127.0.0.1:9191 or [::1]:9191, or leave it empty to turn metrics off",
            )
        )
    return host or "0.0.0.0", int(port)
