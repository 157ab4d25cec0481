"""Britizen: notifications."""
