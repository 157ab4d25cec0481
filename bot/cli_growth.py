"""`britizen growth ambassadors | campaign | contest ...`: outreach on consent (issue 19).

Kept apart from bot/cli.py so other `growth` subcommands can be added beside these; cli.py
calls `add_growth_outreach_commands` with its `growth` subparsers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from storage.db import Database


def _on_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Migrate, then run `work` on a database opened for it (as bot.cli's commands do; not
    imported from there, which imports this module)."""
    from storage.db import Database
    from storage.migrate import upgrade

    upgrade(settings.database_url)

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _bot_username(settings: Settings, args: argparse.Namespace) -> str | None:
    """The bot's @name for invite links: --bot-username, else asked of Telegram (getMe)."""
    if args.bot_username:
        return str(args.bot_username).lstrip("@")
    if not settings.telegram_token:
        print(
            "britizen: invite links need the bot's username: set BRITIZEN_TELEGRAM_TOKEN "
            "(it is asked of Telegram) or pass --bot-username",
            file=sys.stderr,
        )
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    async def ask() -> str | None:
        bot = Bot(settings.telegram_token or "", base_url=settings.telegram_api_url)
        try:
            async with bot:
                return bot.username
        except TelegramError as problem:
            print(
                f"britizen: could not ask Telegram for the bot's name: {problem}", file=sys.stderr
            )
            return None

    return asyncio.run(ask())


def _cmd_ambassadors(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.growth_outreach import GrowthOutreach, OutreachError, parse_areas
    from services.invites import InviteService

    try:
        areas = parse_areas(args.area, "--area") if args.area else ()
    except OutreachError as problem:
        print(f"britizen: {problem}", file=sys.stderr)
        return 2
    username = _bot_username(settings, args)
    if username is None:
        return 2

    async def run(db: Database) -> int:
        invites = InviteService(db, settings.resolved_secret_key(), system_clock)
        outreach = GrowthOutreach(db, system_clock, settings.tz, invites)
        try:
            done = await outreach.invite_ambassadors(
                top=args.top, bot_username=username, role=args.role, areas=areas
            )
        except OutreachError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        print(
            f"chose {done.chosen} opted-in citizen(s); queued {done.queued} ambassador "
            f"invitation(s); skipped {done.skipped_recent} invited in the last 30 days"
        )
        return 0

    return _on_database(settings, run)


def _cmd_campaign(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.growth_outreach import (
        GrowthOutreach,
        OutreachError,
        check_campaign_text,
        parse_areas,
    )
    from services.invites import InviteService

    try:
        areas = parse_areas(args.areas)
        check_campaign_text(args.text)
    except OutreachError as problem:
        print(f"britizen: {problem}", file=sys.stderr)
        return 2
    username = _bot_username(settings, args)
    if username is None:
        return 2

    async def run(db: Database) -> int:
        invites = InviteService(db, settings.resolved_secret_key(), system_clock)
        outreach = GrowthOutreach(db, system_clock, settings.tz, invites)
        try:
            done = await outreach.run_campaign(areas=areas, text=args.text, bot_username=username)
        except OutreachError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        again = " (carried on: same areas and text as before)" if done.already else ""
        print(
            f"campaign #{done.campaign_id} to {', '.join(done.areas)}{again}: queued "
            f"{done.queued} message(s); skipped {done.skipped_recent} asked in the last 7 days"
        )
        return 0

    return _on_database(settings, run)


def _cmd_contest_start(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.contests import ContestService
    from services.growth_outreach import OutreachError

    async def run(db: Database) -> int:
        try:
            contest = await ContestService(db, system_clock, settings.tz).start(
                args.name, args.days
            )
        except OutreachError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        print(
            f"contest #{contest.id} {contest.name!r} runs until "
            f"{contest.ends_at.astimezone(settings.tz):%Y-%m-%d %H:%M}; citizens join with /contest"
        )
        return 0

    return _on_database(settings, run)


def _cmd_contest_list(settings: Settings, _args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.contests import ContestService

    async def run(db: Database) -> int:
        contests = await ContestService(db, system_clock, settings.tz).list()
        if not contests:
            print("no contests yet: britizen growth contest start --name NAME --days N")
            return 0
        now = system_clock()
        for c in contests:
            print(
                f"  #{c.id}  {c.name}  {c.starts_at.astimezone(settings.tz):%Y-%m-%d %H:%M} to "
                f"{c.ends_at.astimezone(settings.tz):%Y-%m-%d %H:%M}  {c.state(now)}  "
                f"{c.participants} participant(s)"
            )
        return 0

    return _on_database(settings, run)


def _cmd_contest_end(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.contests import ContestService
    from services.growth_outreach import OutreachError

    async def run(db: Database) -> int:
        try:
            done = await ContestService(db, system_clock, settings.tz).end(args.id)
        except OutreachError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        print(
            f"contest #{done.contest_id} ended: {done.participants} participant(s), "
            f"{done.counted} verified referral(s) counted; result queued for {done.announced}"
        )
        return 0

    return _on_database(settings, run)


def add_growth_outreach_commands(
    growth: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """The outreach subcommands of `britizen growth`."""
    ambassadors = growth.add_parser(
        "ambassadors",
        help="invite the best-placed citizens who opted in to be ambassadors (never twice in "
        "30 days)",
    )
    ambassadors.add_argument("--top", type=int, required=True, help="how many to invite")
    ambassadors.add_argument("--role", choices=("broker", "connector"))
    ambassadors.add_argument("--area", help="postcode area(s), e.g. SO or SO,BH")
    ambassadors.add_argument("--bot-username", help="the bot's @name (else asked of Telegram)")
    ambassadors.set_defaults(handler=_cmd_ambassadors)

    campaign = growth.add_parser(
        "campaign", help="ask opted-in citizens in some postcode areas to invite neighbours"
    )
    campaign.add_argument("--areas", required=True, help="postcode areas, e.g. SO,BH")
    campaign.add_argument("--text", required=True, help="your words (plain text)")
    campaign.add_argument("--bot-username", help="the bot's @name (else asked of Telegram)")
    campaign.set_defaults(handler=_cmd_campaign)

    contest = growth.add_parser("contest", help="referral contests (citizens opt in)")
    contest_commands = contest.add_subparsers(
        dest="contest_command", required=True, metavar="ACTION"
    )
    start = contest_commands.add_parser("start", help="start a contest")
    start.add_argument("--name", required=True)
    start.add_argument("--days", type=int, required=True)
    start.set_defaults(handler=_cmd_contest_start)
    listing = contest_commands.add_parser("list", help="list contests")
    listing.set_defaults(handler=_cmd_contest_list)
    end = contest_commands.add_parser("end", help="end a contest and announce its result")
    end.add_argument("id", type=int)
    end.set_defaults(handler=_cmd_contest_end)
