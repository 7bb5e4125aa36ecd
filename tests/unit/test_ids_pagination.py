"""Public ids (prefix + time-ordered random part) and opaque keyset-pagination cursors."""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrepot.kernel import ids
from entrepot.kernel.errors import ValidationFailed
from entrepot.kernel.ids import has_prefix, new_id
from entrepot.kernel.pagination import decode_cursor, encode_cursor

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
ID_PATTERN = re.compile(
    r"^(?P<prefix>[a-z]+)_(?P<time>[0-9a-hjkmnp-tv-z]{10})(?P<random>[0-9a-hjkmnp-tv-z]{16})$"
)


class _FrozenClock:
    """Stands in for the `time` module inside entrepot.kernel.ids."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def time(self) -> float:
        return self.seconds


def _crockford_value(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + CROCKFORD.index(char)
    return value


@pytest.mark.parametrize("prefix", ["ord", "byr", "mkt", "org", "pay"])
def test_id_format(prefix: str) -> None:
    public_id = new_id(prefix)
    match = ID_PATTERN.match(public_id)
    assert match is not None, public_id
    assert match["prefix"] == prefix
    assert len(public_id) == len(prefix) + 27
    assert has_prefix(public_id, prefix)


def test_id_time_part_encodes_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids, "time", _FrozenClock(1_763_000_000.123))
    match = ID_PATTERN.match(new_id("ord"))
    assert match is not None
    assert _crockford_value(match["time"]) == 1_763_000_000_123


class _FixedRandomness:
    """Stands in for the `os` module inside entrepot.kernel.ids."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def urandom(self, n: int) -> bytes:
        assert n == len(self.data)
        return self.data


@pytest.mark.parametrize("data", [bytes(10), b"\xff" * 10, bytes(range(1, 11))])
def test_id_random_part_encodes_the_random_bytes(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(ids, "time", _FrozenClock(1_763_000_000.123))
    monkeypatch.setattr(ids, "os", _FixedRandomness(data))
    match = ID_PATTERN.match(new_id("ord"))
    assert match is not None
    assert _crockford_value(match["random"]) == int.from_bytes(data, "big")
    assert _crockford_value(match["time"]) == 1_763_000_000_123


def test_ids_sort_by_creation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _FrozenClock(1_700_000_000.000)
    monkeypatch.setattr(ids, "time", clock)
    created = []
    for step in range(50):
        clock.seconds = 1_700_000_000 + step * 0.001 + (step // 10) * 86_400  # ms apart, some days apart
        created.append(new_id("ord"))
    assert sorted(created) == created


def test_ids_are_unique() -> None:
    many = [new_id("ord") for _ in range(20_000)]
    assert len(set(many)) == len(many)


def test_ids_in_the_same_millisecond_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids, "time", _FrozenClock(1_700_000_000.0))
    same_ms = {new_id("pay") for _ in range(1000)}
    assert len(same_ms) == 1000
    assert len({i[4:14] for i in same_ms}) == 1  # one time part, all different random parts


@pytest.mark.parametrize(
    ("public_id", "prefix"),
    [
        ("ord_01jabcdefghjkmnpqrstvwxyz0", "byr"),  # other prefix
        ("ord_01jabcdefghjkmnpqrstvwxyz", "ord"),  # one character short
        ("ord_01jabcdefghjkmnpqrstvwxyz00", "ord"),  # one character long
        ("ord01jabcdefghjkmnpqrstvwxyz00", "ord"),  # no underscore
        ("", "ord"),
    ],
)
def test_has_prefix_rejects(public_id: str, prefix: str) -> None:
    assert has_prefix(public_id, prefix) is False


def test_has_prefix_rejects_non_strings() -> None:
    assert has_prefix(12345, "ord") is False  # type: ignore[arg-type]
    assert has_prefix(None, "ord") is False  # type: ignore[arg-type]


# -- cursors ---------------------------------------------------------------------------------------


def test_cursor_is_opaque_url_safe_text() -> None:
    cursor = encode_cursor(12345)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert "12345" not in cursor
    assert decode_cursor(cursor) == 12345


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_cursor_round_trip(last_id: int) -> None:
    cursor = encode_cursor(last_id)
    assert "=" not in cursor
    assert decode_cursor(cursor) == last_id


@pytest.mark.parametrize("empty", [None, ""])
def test_no_cursor_means_the_first_page(empty: str | None) -> None:
    assert decode_cursor(empty) is None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "%%%",
        "a",
        "abc",
        "12345",
        _b64(b"not json"),
        _b64(b"\xff\xfe\x00"),
        _b64(json.dumps({"before": 5}).encode()),
        _b64(json.dumps({"after": -1}).encode()),
        _b64(json.dumps({"after": 1.5}).encode()),
        _b64(json.dumps({"after": "5"}).encode()),
        _b64(json.dumps({"after": None}).encode()),
        _b64(json.dumps([5]).encode()),
        _b64(json.dumps("after").encode()),
        _b64(json.dumps(5).encode()),
        encode_cursor(10)[:-2],  # truncated
    ],
)
def test_garbage_cursor_raises_validation_failed(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        decode_cursor(cursor)
    assert info.value.detail == "malformed cursor"
    assert [e.field for e in info.value.field_errors] == ["cursor"]
    assert info.value.status == 422


def test_deeply_nested_json_cursor_raises_validation_failed() -> None:
    # A 4 kB query parameter a client can send: 3,000 nested JSON arrays. json.loads raises
    # RecursionError, which decode_cursor does not catch, so the API answers 500 instead of 422.
    cursor = _b64(b"[" * 3000)
    assert len(cursor) == 4000
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor)


@given(st.text(max_size=60))
def test_any_text_is_a_cursor_or_a_validation_error(cursor: str) -> None:
    try:
        value = decode_cursor(cursor)
    except ValidationFailed:
        return
    assert value is None or (isinstance(value, int) and value >= 0)
