"""Emissions accounting to ISO 14083 / the GLEC Framework: factor tables, per-element results with an
audit trail, roll-ups, targets and scenarios."""
