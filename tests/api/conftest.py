"""The API tests drive the real service, so they share the end-to-end fixtures."""

from tests.e2e.conftest import clock, service, start_service

__all__ = ["clock", "service", "start_service"]
