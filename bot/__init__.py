"""Britizen: bot."""
