"""Opaque cursors for keyset pagination over internal ids."""

from __future__ import annotations

import base64
import binascii
import json

from entrepot.kernel.bounds import MAX_INT64
from entrepot.kernel.errors import FieldError, ValidationFailed


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    value = None
    if len(cursor) <= 64:  # ours are about 20 characters; anything long is not one of ours
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
            value = None
    # ids are BIGINT: a larger number is no id of ours, and the database would refuse to compare it
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT64:
        raise ValidationFailed("malformed cursor", [FieldError("cursor", "not a cursor this API issued")])
    return value
