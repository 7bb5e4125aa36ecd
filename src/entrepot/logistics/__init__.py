"""Logistics: the network of nodes and lanes, route planning, shipments, tracking and customs."""
