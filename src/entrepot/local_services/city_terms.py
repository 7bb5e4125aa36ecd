"""What the city's answers promise, kept apart from the map's code so that the API's schemas read them
without loading scipy at start-up: the map's licence and attribution, and the bounds of a request."""

from __future__ import annotations

ATTRIBUTION = "© OpenStreetMap contributors"
LICENCE = "ODbL-1.0"
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
# Farther than this from every road of the mode, a point is off the map rather than at a door off a lane.
MAX_SNAP_M = 300.0
MAX_POINTS = 1000  # each side of a matrix: 1,000 x 1,000 takes 0.3 s by e-bike, 2 s on foot (`bench city`)
