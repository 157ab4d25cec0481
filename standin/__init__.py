"""Britizen: standin."""
