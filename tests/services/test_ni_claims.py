"""The pure parts of NI-number claims: contacts, documents' limits, the key and its setting."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import SettingsError, load_settings
from services.ni_claims import (
    MAX_DOCUMENT_BYTES,
    BadContact,
    BadDocument,
    NiClaimService,
    document_key_from_secret,
    normalise_contact,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", ("email", "alice@example.com")),
        ("  Alice.O'Neil+bz@Mail.Example.CO.UK ", ("email", "Alice.O'Neil+bz@mail.example.co.uk")),
        ("07700 900123", ("phone", "07700900123")),
        ("(020) 7946-0018", ("phone", "02079460018")),
        ("+44 7700 900123", ("phone", "+447700900123")),
        ("+1 415.555.0100", ("phone", "+14155550100")),
    ],
)
def test_an_email_or_a_phone_is_accepted_in_one_form(raw: str, expected: tuple[str, str]) -> None:
    assert normalise_contact(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "a..b@example.com",
        "alice@exa mple.com",
        "12345",
        "07700 9001",
        "+0 7700 900123",
        "AB 12 34 56 C",
        "x" * 300 + "@example.com",
    ],
)
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(BadContact):
        normalise_contact(raw)


@given(st.text(max_size=300))
def test_any_text_is_either_a_contact_or_refused(raw: str) -> None:
    try:
        kind, value = normalise_contact(raw)
    except BadContact:
        return
    assert kind in ("email", "phone") and len(value) <= 254


def test_documents_must_be_an_image_or_pdf_within_the_limit() -> None:
    NiClaimService.check_document(MAX_DOCUMENT_BYTES, "image/png")
    NiClaimService.check_document(None, "application/pdf")
    with pytest.raises(BadDocument, match="too big"):
        NiClaimService.check_document(MAX_DOCUMENT_BYTES + 1, "image/jpeg")
    for mime in (None, "text/plain", "image/gif", "application/zip"):
        with pytest.raises(BadDocument):
            NiClaimService.check_document(10, mime)


def test_the_derived_key_is_a_fernet_key_that_depends_on_the_secret() -> None:
    one = document_key_from_secret(b"a" * 48)
    assert Fernet(one).decrypt(Fernet(one).encrypt(b"doc")) == b"doc"
    assert one == document_key_from_secret(b"a" * 48)
    assert one != document_key_from_secret(b"b" * 48)


def test_the_document_key_setting_must_be_a_fernet_key() -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(_env_file=None, document_key=key)
    assert settings.resolved_document_key() == key.encode()
    assert load_settings(_env_file=None).resolved_document_key() is None
    with pytest.raises(SettingsError, match="BRITIZEN_DOCUMENT_KEY is invalid: must be a Fernet"):
        load_settings(_env_file=None, document_key="not-a-key")
