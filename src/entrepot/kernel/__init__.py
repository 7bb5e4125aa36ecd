"""Shared kernel: money, FX, ids, errors and domain events. Small and stable."""
