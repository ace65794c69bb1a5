"""The staff password hash: argon2id at OWASP's minimum parameters, and the hashes made before
with pwdlib's heavier recommended ones still sign in and are rehashed on the way."""

from __future__ import annotations

from pwdlib import PasswordHash

from api_gateway.service_layer.sign_in import password_hasher

PASSWORD = "correct horse battery staple"


def test_new_hashes_are_argon2id_at_owasp_minimum() -> None:
    hashed = password_hasher().hash(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    valid, updated = password_hasher().verify_and_update(PASSWORD, hashed)
    assert valid
    assert updated is None  # already at these parameters: nothing to store
    assert not password_hasher().verify("wrong horse battery staple", hashed)


def test_an_older_heavier_hash_still_verifies_and_is_rehashed() -> None:
    older = PasswordHash.recommended().hash(PASSWORD)
    assert older.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    valid, updated = password_hasher().verify_and_update(PASSWORD, older)
    assert valid
    assert updated is not None
    assert updated.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert password_hasher().verify(PASSWORD, updated)
    wrong, none = password_hasher().verify_and_update("not it", older)
    assert not wrong
    assert none is None
