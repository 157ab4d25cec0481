"""Typed settings, read from `BRITIZEN_*` environment variables and `.env`.

Everything an operator can set lives here and in `.env.example`. Loading fails fast with one
line naming the variable, so a misconfigured deployment never half-starts.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.updates import DEFAULT_WORKING_LIMIT
from storage.db import DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_SIZE

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/britizen.db"
DEV_SECRET_FILE = Path("data/secret.key")
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
# A secret shorter than this is guessable enough to make the NI-number HMACs reversible by
# brute force over the ~10^9 possible numbers, so we refuse it.
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(Exception):
    """A configuration problem, already phrased as the one line the operator should see."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRITIZEN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `BRITIZEN_SECRET_KEY=` copied from .env.example means "not set", not "empty string".
        env_ignore_empty=True,
    )

    environment: Environment = Environment.DEVELOPMENT
    telegram_token: str | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    # Telegram's limit in one chat: after a burst of three, a message a second to a person
    # (a group: one every three times this). 0 paces nothing, for a Bot API without the limit.
    chat_send_interval: float = Field(default=1.0, ge=0, le=60)
    timezone: str = "Europe/London"
    payment_provider_token: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    scoring_cron: str = "0 2 * * *"
    # Scale-out (PostgreSQL): how often a non-leader tries to take over the scheduled jobs and
    # the outbox sender, and how often the leader checks it still holds them.
    leader_retry_seconds: float = Field(default=10.0, gt=0, le=60)
    # PostgreSQL connections each instance keeps open, and how many more it may open for a
    # burst (see storage.db). N instances need N x (pool + overflow + 1 for the leader lock)
    # below the server's max_connections.
    database_pool_size: int = Field(default=DEFAULT_POOL_SIZE, ge=1, le=500)
    database_max_overflow: int = Field(default=DEFAULT_MAX_OVERFLOW, ge=0, le=500)
    # Updates one instance works on at once (the rest queue; see bot.updates). Below the pool
    # size, so updates never need a connection the pool doesn't have.
    concurrent_updates: int = Field(default=DEFAULT_WORKING_LIMIT, ge=1, le=1000)
    # Shown by /healthz so an operator can tell instances apart; hostname:pid when unset.
    instance_name: str | None = None
    # Where people reach this server from outside (links the bot hands out, e.g. Boost's
    # sign-up link); unset: the webhook URL's origin, else http://HOST:PORT.
    public_url: str | None = None
    log_level: str = "INFO"
    # Encrypts NI-number claims' document photos and contacts (a Fernet key: generate one with
    # python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())').
    # Unset: derived from the secret key (services.ni_claims.document_key_from_secret).
    document_key: str | None = None
    # The growth report's eligible population: an `area,population` CSV (postcode areas such
    # as SO). Unset: the report leaves adoption shares out (the sandbox uses the invented
    # data/population_demo.csv). Read at each report, so a corrected file needs no restart.
    population_file: Path | None = None
    # -- issue 21: broadcasts at national scale (see README "Broadcasts") -------------------
    # Paid broadcasts (a promotion's paid_broadcast) go with allow_paid_broadcast at this rate;
    # Telegram allows up to 1,000 a second, charged in Stars.
    paid_send_rate: float = Field(default=1000.0, gt=0, le=1000)
    # Free broadcasts wait out quiet hours (21:00-08:00 in BRITIZEN_TIMEZONE).
    broadcast_quiet_hours: bool = True
    # Citizen ids per fan-out chunk (each chunk is one transaction; a crash resumes there).
    fanout_chunk: int = Field(default=50_000, ge=100, le=10_000_000)
    # Finished outbox rows are deleted after these many days (their counts stay on the
    # promotion): sent ones, and those that failed or ended any other way.
    outbox_keep_sent_days: float = Field(default=7.0, gt=0, le=3650)
    outbox_keep_failed_days: float = Field(default=30.0, gt=0, le=3650)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"driver {url.drivername!r} is not supported; "
                f"use one of {', '.join(SUPPORTED_DRIVERS)}"
            )
        return value

    @field_validator("document_key")
    @classmethod
    def _fernet_key(cls, value: str | None) -> str | None:
        if value:
            from cryptography.fernet import Fernet

            try:
                Fernet(value.encode())
            except ValueError:
                raise ValueError(
                    "must be a Fernet key: 32 bytes, url-safe base64 (44 characters)"
                ) from None
        return value or None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (try Europe/London)") from None
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # Operators write "123,456" in .env; pydantic-settings would expect JSON for a list.
        if isinstance(value, str):
            return [part.strip() for part in value.replace(" ", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https:// URL (Telegram only delivers webhooks over TLS)")
        return value or None

    @field_validator("scoring_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"not a crontab expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if not self.secret_key:
                raise ValueError(
                    "BRITIZEN_SECRET_KEY is required in production "
                    "(generate one with: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if self.webhook_url and not self.webhook_secret:
                raise ValueError("BRITIZEN_WEBHOOK_SECRET is required with a webhook in production")
        if not self.is_sqlite and self.concurrent_updates > self.database_pool_size:
            raise ValueError(
                f"BRITIZEN_CONCURRENT_UPDATES ({self.concurrent_updates}) must not exceed "
                f"BRITIZEN_DATABASE_POOL_SIZE ({self.database_pool_size}): each update being "
                "worked on holds a database connection"
            )
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"BRITIZEN_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def public_base_url(self) -> str:
        """BRITIZEN_PUBLIC_URL, else the webhook URL's scheme and host, else HOST:PORT."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.webhook_url:
            parts = urlsplit(self.webhook_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_token(self) -> str:
        if not self.telegram_token:
            raise SettingsError(
                "BRITIZEN_TELEGRAM_TOKEN is not set: talk to @BotFather in Telegram, send /newbot, "
                "and put the token it gives you in .env as BRITIZEN_TELEGRAM_TOKEN=..."
            )
        return self.telegram_token

    def resolved_secret_key(self) -> bytes:
        """The HMAC key; in development it is generated once and kept in data/secret.key."""
        if self.secret_key:
            return self.secret_key.encode()
        if not DEV_SECRET_FILE.exists():
            DEV_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
            DEV_SECRET_FILE.write_text(secrets.token_urlsafe(48))
            DEV_SECRET_FILE.chmod(0o600)
        return DEV_SECRET_FILE.read_text().strip().encode()

    def resolved_document_key(self) -> bytes | None:
        """The Fernet key for claim documents, or None to derive one from the secret key (so
        development and the sandbox need nothing more than the generated secret)."""
        return self.document_key.encode() if self.document_key else None


def load_settings(**overrides: object) -> Settings:
    """Load settings or raise SettingsError with one line naming the offending variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        if field:
            raise SettingsError(f"BRITIZEN_{field.upper()} is invalid: {message}") from None
        raise SettingsError(message) from None
