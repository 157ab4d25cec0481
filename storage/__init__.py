"""Britizen: storage."""
