"""The product's password hashes: argon2id at RFC 9106's recommended cost (tests/web makes its users
with the lightest cost, so this is where the product's own cost is held)."""

from __future__ import annotations

from argon2 import PasswordHasher

from entrepot.identity import passwords


def test_a_password_is_stored_as_an_argon2id_hash_at_the_rfc_9106_cost() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.password_matches("correct horse battery", stored)
    assert not passwords.password_matches("correct horse batterY", stored)


def test_an_unknown_user_is_checked_against_a_decoy_of_the_same_cost() -> None:
    assert not passwords.password_matches("correct horse battery", None)
    assert PasswordHasher().check_needs_rehash(passwords._DECOY) is False
