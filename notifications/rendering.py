"""Promotion rows carry no text: the dispatcher renders each promotion here when it sends.

The outbox row of a promotion holds only who it goes to and which promotion it is; the offer
is stored once, on the promotion (issue 21: a row per recipient carrying the whole text made
one national broadcast several GB). Each promotion is rendered once per language its
recipients read (the sponsor's words as written, Britizen's frame in the reader's language)
and kept while its rows are being sent.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

from services.languages import citizens_languages
from services.promotion_messages import RenderedPromotion, render_promotion
from storage.db import Database
from storage.repositories import promotions
from texts.i18n import ENGLISH, worded_in

# Rendered promotions kept in memory (a few hundred bytes each).
RENDERED_KEPT = 256


def _plain(*args: Any) -> tuple[str, dict[str, Any]]:
    """render_promotion's text and keyboard as a tuple, which worded_in turns into plain text
    (button labels included) in the reader's language."""
    rendered = render_promotion(*args)
    return rendered.text, rendered.reply_markup


class PromotionRenderer:
    def __init__(self, db: Database, timezone: ZoneInfo) -> None:
        self._db = db
        self._timezone = timezone
        self._rendered: dict[tuple[int, str], tuple[RenderedPromotion, bool]] = {}
        self._languages: dict[int, str] = {}

    async def prepare(self, rows: Collection[tuple[int, int | None]]) -> None:
        """For claimed (citizen id, promotion id) rows: their readers' languages, and each
        promotion rendered in each language not rendered yet (one query for all of them)."""
        wanted = [(c, p) for c, p in rows if p is not None]
        if not wanted:
            return
        async with self._db.transaction() as session:
            self._languages = await citizens_languages(session, {c for c, _ in wanted})
            needed = {(p, self._languages.get(c, ENGLISH)) for c, p in wanted}
            missing = needed - self._rendered.keys()
            if not missing:
                return
            if len(self._rendered) + len(missing) > RENDERED_KEPT:
                self._rendered.clear()  # long-finished promotions needn't stay in memory
            ids = {p for p, _ in missing}
            for promotion, sponsor_name in await promotions.for_rendering(session, ids):
                for language in {lang for p, lang in missing if p == promotion.id}:
                    rendered = worded_in(language, _plain, promotion, sponsor_name, self._timezone)
                    self._rendered[(promotion.id, language)] = (
                        RenderedPromotion(*rendered),
                        bool(promotion.paid_broadcast),
                    )

    def message(
        self,
        citizen_id: int,
        promotion_id: int | None,
        text: str | None,
        markup: dict[str, Any] | None,
    ) -> tuple[str, dict[str, Any] | None, bool]:
        """(text, keyboard, paid broadcast?) of a claimed row: its own text if it has one
        (every other kind of message, and promotion rows queued before issue 21), else its
        prepared promotion's in the reader's language."""
        paid = False
        if promotion_id is not None:
            language = self._languages.get(citizen_id, ENGLISH)
            rendered, paid = self._rendered[(promotion_id, language)]
            if text is None:
                return rendered.text, rendered.reply_markup, paid
        return text or "", markup, paid
