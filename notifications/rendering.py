"""Promotion rows carry no text: the dispatcher renders each promotion here when it sends.

The outbox row of a promotion holds only who it goes to and which promotion it is; the offer
is stored once, on the promotion (issue 21: a row per recipient carrying the whole text made
one national broadcast several GB). Every recipient gets the same message today, so each
promotion is rendered once and kept while its rows are being sent.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

from services.promotion_messages import RenderedPromotion, render_promotion
from storage.db import Database
from storage.repositories import promotions

# Rendered promotions kept in memory (a few hundred bytes each).
RENDERED_KEPT = 256


class PromotionRenderer:
    def __init__(self, db: Database, timezone: ZoneInfo) -> None:
        self._db = db
        self._timezone = timezone
        self._rendered: dict[int, tuple[RenderedPromotion, bool]] = {}

    async def prepare(self, promotion_ids: Collection[int]) -> None:
        """Render the promotions not rendered yet, one query for all of them."""
        missing = set(promotion_ids) - self._rendered.keys()
        if not missing:
            return
        if len(self._rendered) + len(missing) > RENDERED_KEPT:
            self._rendered.clear()  # long-finished promotions needn't stay in memory
        async with self._db.transaction() as session:
            for promotion, sponsor_name in await promotions.for_rendering(session, missing):
                self._rendered[promotion.id] = (
                    render_promotion(promotion, sponsor_name, self._timezone),
                    bool(promotion.paid_broadcast),
                )

    def message(
        self, promotion_id: int | None, text: str | None, markup: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any] | None, bool]:
        """(text, keyboard, paid broadcast?) of a claimed row: its own text if it has one
        (every other kind of message, and promotion rows queued before issue 21), else its
        prepared promotion's."""
        paid = False
        if promotion_id is not None:
            rendered, paid = self._rendered[promotion_id]
            if text is None:
                return rendered.text, rendered.reply_markup, paid
        return text or "", markup, paid
