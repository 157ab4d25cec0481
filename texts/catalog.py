"""The message catalogs: extract every English message, update each language's .po, check them.

    python -m texts.catalog update   # (`make i18n`) new messages in, gone ones out, then check
    python -m texts.catalog check    # what tests/texts/test_catalog.py asserts is empty

Messages come from two places, both found without anyone listing them:

- every `texts.*` module's module-level wording (strings, and strings inside tuples, dicts and
  dataclasses), read from the imported module, so a constant built with `+` or an f-string at
  import time is the exact text the bot sends;
- every `_("...")` call in texts/*.py (Babel's Python extractor), for wording composed inside
  functions.

The msgid is the English text. Tooling only (Babel's catalog API); never imported by the bot.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

import texts
from texts.i18n import DOMAIN, ENGLISH, LANGUAGES, Text, is_wording, po_path

TEXTS_DIR = Path(texts.__file__).resolve().parent
_PERCENT = re.compile(r"%(?:\([a-z_]+\))?[#0\- +]*\d*(?:\.\d+)?[sdifrx%]")
_TAG = re.compile(r"</?[a-z]+[^>]*>")
WIDTH = 100


def wording_modules() -> Iterator[Any]:
    for info in sorted(pkgutil.iter_modules([str(TEXTS_DIR)]), key=lambda m: m.name):
        name = f"texts.{info.name}"
        if name in texts.NOT_WORDING:
            continue
        yield importlib.import_module(name)


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, Text):
        yield str.__str__(value)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name))


def extract() -> Catalog:
    """Every message, in order of module and appearance."""
    template = Catalog(domain=DOMAIN, locale=ENGLISH, project="Britizen", fuzzy=False)
    for module in wording_modules():
        path = Path(module.__file__).resolve()
        where = f"texts/{path.name}"
        for name, value in vars(module).items():
            if name.startswith("__"):
                continue
            for text in _walk(value):
                if is_wording(text):
                    template.add(text, locations=[(where, 0)], auto_comments=[name])
        for lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords={"_": None}
        ):
            if isinstance(message, str) and message:  # marked by hand: always wording
                template.add(message, locations=[(where, lineno)])
    return template


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(domain=DOMAIN, locale=language, project="Britizen")
    with path.open("rb") as f:
        return read_po(f, locale=language)


def write(catalog: Catalog, language: str) -> None:
    # The header is not a draft (a fuzzy header is ignored by some gettext tools).
    catalog.fuzzy = False
    catalog.project, catalog.version = "Britizen", "1"
    catalog.copyright_holder = "Britizen"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "Britizen (all need a native speaker's review)"
    catalog.language_team = "Cymraeg"
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=WIDTH, ignore_obsolete=True, include_previous=False)


def update() -> dict[str, int]:
    """Each language's .po brought in line with the extracted messages (translations kept,
    translator comments kept; messages no longer sent dropped). Returns what is untranslated."""
    template = extract()
    missing = {}
    for language in LANGUAGES:
        if language == ENGLISH:
            continue
        catalog = read(language)
        catalog.update(
            template,
            update_header_comment=False,
            no_fuzzy_matching=True,
            update_creation_date=False,
        )
        write(catalog, language)
        missing[language] = sum(1 for m in catalog if m.id and not m.string)
    return missing


def fields(text: str) -> list[str]:
    """A message's placeholders, sorted: {name} fields, %-conversions and HTML tags."""
    found = []
    try:
        found += [f"{{{name}}}" for _, name, _, _ in string.Formatter().parse(text) if name]
    except ValueError as exc:
        found.append(f"unparseable braces ({exc})")
    found += _PERCENT.findall(text)
    found += [m.split()[0].rstrip(">") for m in _TAG.findall(text)]
    return sorted(found)


def problems(language: str) -> list[str]:
    """Everything wrong with a language's catalog; empty when it is complete and current."""
    template = extract()
    catalog = read(language)
    wanted = {m.id for m in template if m.id}
    have = {m.id for m in catalog if m.id}
    found = []
    found += [f"not in the .po (run `make i18n`): {m!r}" for m in sorted(wanted - have)]
    found += [f"no longer sent (run `make i18n`): {m!r}" for m in sorted(have - wanted)]
    for message in catalog:
        if not message.id or message.id not in wanted:
            continue
        if not message.string:
            found.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            found.append(f"fuzzy (gettext ignores it): {message.id!r}")
        elif fields(str(message.id)) != fields(str(message.string)):
            found.append(
                f"placeholders differ: {message.id!r} has {fields(str(message.id))}, "
                f"translation has {fields(str(message.string))}"
            )
        else:
            for error in _babel_checks(catalog, message):
                found.append(f"{error}: {message.id!r}")
    return found


def _babel_checks(catalog: Catalog, message: Any) -> list[str]:
    return [str(error) for error in message.check(catalog)]


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        for language, count in update().items():
            print(f"{po_path(language)}: {count} untranslated")
    trouble = [(lang, p) for lang in LANGUAGES if lang != ENGLISH for p in problems(lang)]
    for language, problem in trouble:
        print(f"{language}: {problem}")
    print(f"{len(trouble)} problems")
    return 1 if trouble and command == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
