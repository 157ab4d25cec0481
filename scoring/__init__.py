"""Britizen: scoring."""
