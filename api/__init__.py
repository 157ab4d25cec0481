"""Britizen: api."""
