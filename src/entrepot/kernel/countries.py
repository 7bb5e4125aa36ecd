"""ISO 3166 country codes, checked against pycountry's data (shipped with the package, no network)."""

from __future__ import annotations

from functools import lru_cache

import pycountry

from entrepot.kernel.errors import FieldError


@lru_cache(maxsize=512)
def country_error(code: str, field: str = "country") -> FieldError | None:
    """None for a valid upper-case alpha-2 code, else the field error to report."""
    if not isinstance(code, str) or len(code) != 2 or not code.isalpha() or not code.isupper():
        return FieldError(field, f"an upper-case ISO 3166 alpha-2 code, got {code!r}")
    if pycountry.countries.get(alpha_2=code) is None:
        return FieldError(field, f"unknown ISO 3166 country {code!r}")
    return None
