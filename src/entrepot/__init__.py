"""Entrepot: run a multi-market commerce group."""

__version__ = "0.1.0"
