"""Local services: last-mile routes for delivery stations (a VRPTW solved with PyVRP, checked by our own
rules); later the city map, stores, couriers and on-demand dispatch."""
