"""What a sponsor may put in front of citizens: plain, safe text, https links, real moments.

Each rule is a pydantic validator with a message that names the problem, paired with a JSON
Schema pattern saying the same, so the OpenAPI document (generated from the models) describes
what the server refuses: a client that follows the document is not refused for these.

- Text is plain: no C0 or C1 control characters (line breaks only where a field is
  multi-line), no NUL (PostgreSQL refuses it in text; SQLite would store it), and none of the
  bidirectional formatting characters (U+061C, U+200E/U+200F, U+202A-U+202E, U+2066-U+2069)
  that make text display in another order than it is stored (``evil.exe\u202efdp.txt``).
- Links: ``https://`` and a DNS host name in ASCII (an internationalised name goes as its
  ``xn--`` form, so look-alike letters cannot pose as another host), nothing else in the
  authority: no user info (``https://bank.co.uk@evil.example/`` goes to evil.example), no
  port, no IP address; then printable ASCII only (spaces and the rest percent-encoded).
  Sponsors have no verified domain in Britizen, so the host is not matched against one.
- Moments: a date-time with a UTC offset that exists in UTC (``0001-01-01T00:00:00+14:00``
  is before year 1 there).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

# Regex syntax shared by Python's re, ECMA-262 (JSON Schema) and pydantic: \xHH and \uHHHH.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_NOT_IN_A_LINE = r"\x00-\x1f\x7f-\x9f\u2028\u2029" + _BIDI
_NOT_IN_TEXT = r"\x00-\x09\x0b-\x1f\x7f-\x9f" + _BIDI
LINE_PATTERN = rf"^[^{_NOT_IN_A_LINE}]*[^\s{_NOT_IN_A_LINE}][^{_NOT_IN_A_LINE}]*$"
"""One line with something visible in it (leading and trailing spaces are trimmed)."""
TEXT_PATTERN = rf"^[^{_NOT_IN_TEXT}]*[^\s{_NOT_IN_TEXT}][^{_NOT_IN_TEXT}]*$"
"""Lines (``\\n`` between them) with something visible."""
_FORBIDDEN_IN_LINE = re.compile(f"[{_NOT_IN_A_LINE}]")
_FORBIDDEN_IN_TEXT = re.compile(f"[{_NOT_IN_TEXT}]")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The last label starts with a letter, as every top-level domain does: so no IPv4 address
# passes (and IPv6 needs brackets, which no label has).
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+{_TOP_LABEL}"
URL_PATTERN = rf"^https://{_HOST}(?:[/?#][!-~]*)?$"
_URL = re.compile(URL_PATTERN)
_HOST_ONLY = re.compile(r"https://([^/?#]*)")


def _plain(forbidden: re.Pattern[str], where: str) -> AfterValidator:
    def check(value: str) -> str:
        found = forbidden.search(value)
        if found is not None:
            raise PydanticCustomError(
                "plain_text",
                "must be plain text{where}: U+{code} (a control or bidirectional formatting "
                "character) is not allowed",
                {"code": f"{ord(found.group()):04X}", "where": where},
            )
        if not value.strip():
            raise PydanticCustomError("plain_text", "must not be empty")
        return value

    return AfterValidator(check)


def _https_url(value: str) -> str:
    if _URL.fullmatch(value):
        return value
    if not value.startswith("https://"):
        raise PydanticCustomError("https_url", "must start with https:// (https links only)")
    authority = _HOST_ONLY.match(value)
    host = authority.group(1) if authority else ""
    if "@" in host:
        raise PydanticCustomError(
            "https_url", "must not contain user info (name@): the link would go to another host"
        )
    if not re.fullmatch(_HOST, host):
        raise PydanticCustomError(
            "https_url",
            "must name a host such as example.com: an ASCII DNS name (xn-- for "
            "international names), no IP address, no port",
        )
    raise PydanticCustomError(
        "https_url", "must be printable ASCII after the host: percent-encode spaces and others"
    )


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_range", "must be a moment between the years 1 and 9999 in UTC"
        ) from None


def _pattern(pattern: str) -> Any:
    # In the document only: the validator says what is wrong in words, not as a regex.
    return Field(json_schema_extra={"pattern": pattern})


PlainLine = Annotated[str, _plain(_FORBIDDEN_IN_LINE, " on one line"), _pattern(LINE_PATTERN)]
PlainText = Annotated[str, _plain(_FORBIDDEN_IN_TEXT, ""), _pattern(TEXT_PATTERN)]
HttpsUrl = Annotated[str, AfterValidator(_https_url), _pattern(URL_PATTERN)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
