"""One service spec per stock filter: services/<filter>.py defines SERVICE (see ../spec.py)."""

from __future__ import annotations

import importlib

from ..spec import Service


def module_name(filter_name: str) -> str:
    """The module of a filter's spec: services/<filter with '-' as '_'>.py."""
    return filter_name.replace("-", "_")


def load(filter_name: str) -> Service:
    """The service spec of a stock filter; ModuleNotFoundError when it has none."""
    module = importlib.import_module(f"{__name__}.{module_name(filter_name)}")
    service: Service = module.SERVICE
    return service
