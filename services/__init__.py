"""Britizen: services."""
