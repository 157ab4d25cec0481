"""The API tests drive the real service, so they share the end-to-end fixtures."""

from tests.e2e.conftest import citizen, clock, service, start_service

__all__ = ["citizen", "clock", "service", "start_service"]
