"""Offline geocoding from the city's own extract: street addresses (`addr:street` + `addr:housenumber` on
nodes and buildings) and street names, looked up by normalised text, and the reverse by a KD-tree over the
same points. No fuzzy matching: an address is found as written (case, accents' composition and spacing
aside) or not at all, because a delivery to a guessed door is worse than a question back to the buyer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from entrepot.kernel.errors import NotFound
from entrepot.local_services.roads import Roads

REVERSE_ADDRESS_M = 75.0  # a door farther than this from the point is not "the address here"
REVERSE_STREET_M = 150.0

Projection = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


@dataclass(frozen=True)
class Place:
    kind: str  # "address" or "street"
    street: str
    housenumber: str
    postcode: str
    city: str
    lat: float
    lon: float
    distance_m: float = 0.0

    @property
    def label(self) -> str:
        door = f"{self.street} {self.housenumber}".strip()
        town = f"{self.postcode} {self.city}".strip()
        return f"{door}, {town}" if town else door


def normalised(text: str) -> str:
    """Text as compared: composed, case-folded, punctuation between words as spaces, single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[,;.]", " ", folded).split())


def _number_key(housenumber: str) -> str:
    return normalised(housenumber).replace(" ", "")  # "18 A", "18a" and "18A" are one door


def door_key(street: str, housenumber: str) -> tuple[str, str]:
    """How a door is looked up: its street and its number as compared; what a mapper added after a comma
    in the number (a floor: "2, 2. krs.") is not part of the door."""
    return normalised(street), _number_key(housenumber.split(",", 1)[0])


def _split(text: str) -> tuple[str, str]:
    """(street, house number) from "Mikonkatu 18", "18 Mikonkatu" or "Mikonkatu 18 A 3"; the number is
    empty for a street alone."""
    head = normalised(text)
    trailing = re.fullmatch(r"(.*?[^\d\s])\s+(\d.*)", head)  # the number: from the first word with a digit
    if trailing:
        return trailing.group(1).strip(), _number_key(trailing.group(2))
    leading = re.fullmatch(r"(\d+\s?[a-z]?)\s+(\D.*)", head)
    if leading:
        return leading.group(2).strip(), _number_key(leading.group(1))
    return head, ""


def _range_numbers(housenumber: str) -> list[str]:
    """The numbers of a range "3-9" on one side of the street (3, 5, 7, 9); none for anything else."""
    span = re.fullmatch(r"\s*(\d+)\s*[-\u2013]\s*(\d+)\s*", housenumber.split(",", 1)[0])
    if span is None:
        return []
    low, high = sorted((int(span.group(1)), int(span.group(2))))
    return [str(n) for n in range(low, high + 1, 2 if low % 2 == high % 2 else 1)][:50]


def _readings(query: str) -> list[tuple[str, str]]:
    """The ways to read a query: whole (a street's name may hold a comma), then without what follows its
    first comma (a post code and city: the map holds one city)."""
    return [_split(query), _split(query.split(",", 1)[0])]


class Gazetteer:
    def __init__(self, arrays: dict[str, NDArray[np.generic]], project: Projection) -> None:
        self.street = [str(s) for s in arrays["addr_street"]]
        self.number = [str(s) for s in arrays["addr_number"]]
        self.postcode = [str(s) for s in arrays["addr_postcode"]]
        self.city = [str(s) for s in arrays["addr_city"]]
        self.lat = arrays["addr_lat"].astype(np.float64)
        self.lon = arrays["addr_lon"].astype(np.float64)
        self.by_text: dict[tuple[str, str], int] = {}
        for i, (street, number) in enumerate(zip(self.street, self.number, strict=True)):
            self.by_text.setdefault(door_key(street, number), i)
        # then each number a range spans ("1-5": 1, 3 and 5 on one side of the street), where no door has it
        for i, (street, number) in enumerate(zip(self.street, self.number, strict=True)):
            for door in _range_numbers(number):
                self.by_text.setdefault(door_key(street, door), i)
        self.names = [str(s) for s in arrays["street_names"]]
        node = arrays["street_node"].astype(np.int64)
        self.street_name = arrays["street_name"].astype(np.int64)
        self.street_lat = arrays["lat"].astype(np.float64)[node]
        self.street_lon = arrays["lon"].astype(np.float64)[node]
        self.by_name = {normalised(name): i for i, name in enumerate(self.names)}
        self.doors = cKDTree(project(self.lat, self.lon).reshape(-1, 2)) if len(self.lat) else None
        self.kerbs = cKDTree(project(self.street_lat, self.street_lon).reshape(-1, 2))
        self.project = project

    @staticmethod
    def arrays(roads: Roads) -> dict[str, NDArray[np.generic]]:
        names = sorted({name for name, _ in roads.street_names})
        index = {name: i for i, name in enumerate(names)}
        a = roads.addresses
        return {
            "addr_street": np.array([x.street for x in a], dtype=np.str_),
            "addr_number": np.array([x.housenumber for x in a], dtype=np.str_),
            "addr_postcode": np.array([x.postcode for x in a], dtype=np.str_),
            "addr_city": np.array([x.city for x in a], dtype=np.str_),
            "addr_lat": np.array([x.lat for x in a], dtype=np.float64),
            "addr_lon": np.array([x.lon for x in a], dtype=np.float64),
            "street_names": np.array(names, dtype=np.str_),
            "street_name": np.array([index[name] for name, _ in roads.street_names], dtype=np.int32),
            "street_node": np.array([n for _, n in roads.street_names], dtype=np.int32),
        }

    def _address(self, i: int, distance_m: float = 0.0) -> Place:
        return Place(
            "address",
            self.street[i],
            self.number[i],
            self.postcode[i],
            self.city[i],
            float(self.lat[i]),
            float(self.lon[i]),
            round(distance_m, 1),
        )

    def geocode(self, query: str) -> Place:
        """The address as written, or with no number the street's node nearest its middle; else a 404."""
        for street, number in _readings(query):
            if number and (street, number) in self.by_text:
                return self._address(self.by_text[street, number])
            if not number and street in self.by_name:
                return self._street(self.by_name[street])
        raise NotFound(f"no street or address {query.strip()!r} in this city's map")

    def _street(self, name: int) -> Place:
        on = np.flatnonzero(self.street_name == name)
        lat, lon = self.street_lat[on], self.street_lon[on]
        middle = int(np.argmin((lat - lat.mean()) ** 2 + ((lon - lon.mean()) * np.cos(np.radians(lat))) ** 2))
        return Place("street", self.names[name], "", "", "", float(lat[middle]), float(lon[middle]))

    def reverse(self, lat: float, lon: float) -> Place:
        """The nearest address within REVERSE_ADDRESS_M, else the nearest named street within
        REVERSE_STREET_M, else a 404 (the caller has already refused a point off the map)."""
        xy = self.project(np.array([lat]), np.array([lon]))[0]
        if self.doors is not None:
            gap, at = self.doors.query(xy)
            if gap <= REVERSE_ADDRESS_M:
                return self._address(int(at), float(gap))
        gap, at = self.kerbs.query(xy)
        if gap <= REVERSE_STREET_M:
            name = self.names[int(self.street_name[int(at)])]
            lat_at, lon_at = float(self.street_lat[int(at)]), float(self.street_lon[int(at)])
            return Place("street", name, "", "", "", lat_at, lon_at, round(float(gap), 1))
        raise NotFound(f"no address or named street within {REVERSE_STREET_M:g} m of {lat:.6f},{lon:.6f}")
