"""Fixtures for the unit tests."""

from tests.dpkg_status import upstream_reading

__all__ = ["upstream_reading"]
