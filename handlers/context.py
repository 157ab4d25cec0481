"""Typed context: handlers write `context.services.registration`, never `bot_data["..."]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from services.container import Services


class BotData:
    """Application-wide dependencies, set once by the composition root."""

    services: Services
    timezone: ZoneInfo
    admin_ids: frozenset[int]
    payment_provider_token: str | None
    """Telegram Payments provider token for loan repayments; None until payments are set up."""


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    citizen_id: int | None = None
    """The presser's account, set by `registered_only` after its one registration read."""

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def timezone(self) -> ZoneInfo:
        return self.bot_data.timezone

    @property
    def payment_provider_token(self) -> str | None:
        return self.bot_data.payment_provider_token
