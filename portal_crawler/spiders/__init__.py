"""Spiders: one, driven by a site profile."""
