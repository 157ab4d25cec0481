"""`britizen boost list | revoke`: the operators' view of Boost partners (issue 20).

Kept apart from bot/cli.py like bot/cli_growth.py; cli.py calls `add_boost_commands` with its
subparsers. Citizens are named by their account id (never an NI number or a name); partners by
their id and the name they signed up with. Like everything an operator prints here, the wording
stays English (the CLI is not translated).

    britizen boost list                      every Boost partner: role, since, how many citizens
    britizen boost list --citizen 12         one citizen's Boost partners and waiting invitations
    britizen boost revoke 7 --citizen 12     partner #7 may no longer report about citizen #12
    britizen boost revoke 7                  ... about anyone

A revocation is logged in each citizen's access log (what /share lists) and told in their chat,
as when they remove a partner themselves in /boost. What the partner already reported stays.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from services.boost_operators import BoostOperators
    from storage.db import Database


def _on_boost(settings: Settings, work: Callable[[BoostOperators], Awaitable[int]]) -> int:
    """Migrate, then run `work` with the operators' Boost service on a database opened for it."""
    from services.boost_operators import BoostOperators
    from services.clock import system_clock
    from storage.db import Database
    from storage.migrate import upgrade

    upgrade(settings.database_url)

    async def run() -> int:
        db: Database = Database(settings.database_url)
        try:
            return await work(BoostOperators(db, system_clock, settings.tz))
        finally:
            await db.close()

    return asyncio.run(run())


def _cmd_boost_list(settings: Settings, args: argparse.Namespace) -> int:
    async def listing(boost: BoostOperators) -> int:
        if args.citizen is not None:
            return await _list_citizen(boost, args.citizen)
        partners = await boost.all_partners()
        if not partners:
            print("no Boost partners yet")
            return 0
        print(f"{len(partners)} Boost partner(s), oldest first:")
        for p in partners:
            print(
                f"  #{p.partner_id}  {p.name}  ({p.role})  signed up {p.created_at:%Y-%m-%d}  "
                f"reports for {p.citizens} citizen(s)"
            )
        print("One citizen's: britizen boost list --citizen <id>")
        print("To stop one reporting: britizen boost revoke <partner id> [--citizen <id>]")
        return 0

    return _on_boost(settings, listing)


async def _list_citizen(boost: BoostOperators, citizen_id: int) -> int:
    found = await boost.of_citizen(citizen_id)
    if found is None:
        print(f"britizen: no citizen #{citizen_id}", file=sys.stderr)
        return 1
    if not found.partners:
        print(f"citizen #{citizen_id} has no Boost partners")
    else:
        print(f"citizen #{citizen_id}'s Boost partners:")
        for p in found.partners:
            print(f"  #{p.partner_id}  {p.name}  ({p.role})")
    if found.invites:
        print(f"invitations waiting to be used: {len(found.invites)}")
        for i in found.invites:
            print(f"  {i.role}, until {i.expires_on:%Y-%m-%d}")
    return 0


def _cmd_boost_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async def revoke(boost: BoostOperators) -> int:
        ended = await boost.end(args.partner, args.citizen)
        if ended is None:
            print(f"britizen: no Boost partner #{args.partner}", file=sys.stderr)
            return 1
        if not ended:
            whom = "anyone" if args.citizen is None else f"citizen #{args.citizen}"
            print(
                f"britizen: Boost partner #{args.partner} does not report about {whom}",
                file=sys.stderr,
            )
            return 1
        ids = ", ".join(f"#{c}" for c in ended)
        print(
            f"Boost partner #{args.partner} can no longer report about {len(ended)} "
            f"citizen(s): {ids}. Each was told, and it is in their access log; what it "
            "already reported stays."
        )
        return 0

    return _on_boost(settings, revoke)


def add_boost_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    boost = commands.add_parser(
        "boost", help="Boost partners (landlords, letting agents, councils citizens invited)"
    )
    boost_commands = boost.add_subparsers(dest="boost_command", required=True, metavar="ACTION")
    listing = boost_commands.add_parser(
        "list", help="list Boost partners, or one citizen's (--citizen)"
    )
    listing.add_argument("--citizen", type=int, default=None, help="a citizen's account id")
    listing.set_defaults(handler=_cmd_boost_list)
    revoke = boost_commands.add_parser(
        "revoke", help="stop a Boost partner reporting about one citizen (--citizen) or anyone"
    )
    revoke.add_argument("partner", type=int, help="the Boost partner's id (from `boost list`)")
    revoke.add_argument("--citizen", type=int, default=None, help="a citizen's account id")
    revoke.set_defaults(handler=_cmd_boost_revoke)
