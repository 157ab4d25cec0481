"""The `britizen` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot.cli_boost import add_boost_commands
from bot.cli_growth import add_growth_outreach_commands
from bot.logs import configure_logging
from bot.settings import Environment, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from storage.db import Database


def _cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    # Before the heavy imports, so a production deployment without its token answers at once;
    # elsewhere a missing token means sandbox mode (bot/sandbox.py).
    if not settings.telegram_token:
        if settings.environment is Environment.PRODUCTION:
            settings.require_token()
        logging.getLogger("bot.sandbox").warning(
            "no BRITIZEN_TELEGRAM_TOKEN: starting in SANDBOX mode, where nothing reaches Telegram"
        )
    from bot.service import PortUnavailable, serve
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    try:
        asyncio.run(serve(settings))
    except PortUnavailable as problem:
        print(f"britizen: {problem}", file=sys.stderr)
        return 1
    return 0


def _cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


def _cmd_score(settings: Settings, _args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.scoring_pass import PassAlreadyRunning, ScoringPass
    from storage.db import Database
    from storage.migrate import upgrade

    upgrade(settings.database_url)

    async def one_pass() -> int:
        db = Database(settings.database_url)
        try:
            summary = await ScoringPass(db, system_clock, settings.tz).run(progress=print)
        except PassAlreadyRunning:
            print("britizen: a scoring pass is already running; try again when it finishes")
            return 1
        finally:
            await db.close()
        print(f"scored {summary.users} users in {summary.seconds:.1f} s")
        return 0

    return asyncio.run(one_pass())


def _cmd_demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.demo_data import generate_demo_population
    from storage.db import Database
    from storage.migrate import upgrade

    if args.users < 1 or args.avg_friends < 0:
        print(
            "britizen: --users must be at least 1 and --avg-friends not negative", file=sys.stderr
        )
        return 2
    upgrade(settings.database_url)

    async def generate() -> None:
        db = Database(settings.database_url)
        try:
            summary = await generate_demo_population(
                db,
                settings.resolved_secret_key(),
                system_clock,
                users=args.users,
                avg_friends=args.avg_friends,
                seed=args.seed,
                progress=print,
            )
        finally:
            await db.close()
        print(
            f"created {summary.citizens} citizens, {summary.friendships} friendships and "
            f"{summary.payment_events} payment events in {summary.seconds:.1f} s"
        )

    asyncio.run(generate())
    return 0


def _add_api_client(settings: Settings, kind: str, name: str) -> int:
    """`britizen sponsor add` / `britizen partner add`: create the client, print its key once."""
    from services.api_clients import ApiClientError
    from services.clock import system_clock
    from services.partners import PartnerService
    from services.sponsors import SponsorService
    from storage.db import Database
    from storage.migrate import upgrade

    upgrade(settings.database_url)

    async def add() -> int:
        db = Database(settings.database_url)
        registry = SponsorService if kind == "sponsor" else PartnerService
        try:
            client, api_key = await registry(
                db, settings.resolved_secret_key(), system_clock
            ).create(name)
        except ApiClientError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        finally:
            await db.close()
        print(f"created {kind} {client.name!r} (id {client.id})")
        print(f"API key: {api_key}")
        # Only a keyed hash is stored, so there is no way to show it later.
        print("Store this key now: it will not be shown again.")
        return 0

    return asyncio.run(add())


def _cmd_sponsor_add(settings: Settings, args: argparse.Namespace) -> int:
    return _add_api_client(settings, "sponsor", args.name)


def _cmd_partner_add(settings: Settings, args: argparse.Namespace) -> int:
    return _add_api_client(settings, "partner", args.name)


def _on_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Migrate, then run one operator command's `work` on a database opened for it."""
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


def _cmd_payments_overpaid(settings: Settings, _args: argparse.Namespace) -> int:
    """Money to give back: overpayments not used for a later instalment, not yet refunded."""
    from services.clock import system_clock
    from services.loans import LoanService
    from texts.format import money

    async def listing(db: Database) -> int:
        due = await LoanService(db, system_clock, settings.tz).refunds_due()
        if not due:
            print("no refunds due")
            return 0
        print(f"{len(due)} refund(s) due, {money(sum(o.refund_pence for o in due))} in all:")
        for o in due:
            print(
                f"  #{o.id}  {o.created_at:%Y-%m-%d %H:%M}  refund {money(o.refund_pence)} "
                f"of {money(o.amount_pence)}  ({o.reason})  telegram user {o.payer_telegram_id}  "
                f"charge {o.charge_id}"
            )
        print("After refunding one: britizen payments refunded <id>")
        return 0

    return _on_database(settings, listing)


def _cmd_payments_refunded(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.loans import LoanService

    async def mark(db: Database) -> int:
        if not await LoanService(db, system_clock, settings.tz).mark_refunded(args.id):
            print(f"britizen: no refund #{args.id} is due", file=sys.stderr)
            return 1
        print(f"refund #{args.id} marked as refunded")
        return 0

    return _on_database(settings, mark)


def _cmd_events_held(settings: Settings, _args: argparse.Namespace) -> int:
    """Partners' batches held for review (services.event_rules): what an admin may release."""
    from services.clock import system_clock
    from services.events import EventService

    async def listing(db: Database) -> int:
        held = await EventService(db, settings.resolved_secret_key(), system_clock).held()
        if not held:
            print("no batches are held for review")
            return 0
        print(f"{len(held)} batch(es) held for review, newest first:")
        for b in held:
            about = f"citizen #{b.citizen_id}" if b.citizen_id else "someone not registered yet"
            span = f", dated {b.first_on} to {b.last_on}" if b.first_on and b.last_on else ""
            print(
                f"  #{b.id}  received {b.received_at:%Y-%m-%d %H:%M}  from {b.partner}  "
                f"about {about}: {b.events} event(s), {b.adverse} late or missed{span}"
            )
        print("To let one count from the next pass: britizen events release <id>")
        return 0

    return _on_database(settings, listing)


def _cmd_events_release(settings: Settings, args: argparse.Namespace) -> int:
    from services.clock import system_clock
    from services.events import EventService

    async def release(db: Database) -> int:
        events = EventService(db, settings.resolved_secret_key(), system_clock)
        if not await events.release(args.id):
            print(f"britizen: no batch #{args.id} is held for review", file=sys.stderr)
            return 1
        print(f"batch #{args.id} released: its events count from the next scoring pass")
        return 0

    return _on_database(settings, release)


# -- operators and the growth report (issue 19, operator side) ---------------------------------


def _cmd_operator_add(settings: Settings, args: argparse.Namespace) -> int:
    """`britizen operator add NAME`: an operator key (bz_op_...) for the growth report."""
    from services.api_clients import ApiClientError
    from services.clock import system_clock
    from services.operators import OperatorService
    from storage.db import Database
    from storage.migrate import upgrade
    from texts import growth as words

    upgrade(settings.database_url)

    async def add() -> int:
        db = Database(settings.database_url)
        try:
            client, api_key = await OperatorService(
                db, settings.resolved_secret_key(), system_clock
            ).create(args.name)
        except ApiClientError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        finally:
            await db.close()
        print(words.OPERATOR_CREATED.format(name=client.name, id=client.id))
        print(words.OPERATOR_KEY.format(key=api_key))
        print(words.OPERATOR_KEY_ONCE)
        return 0

    return asyncio.run(add())


def _cmd_growth_report(settings: Settings, args: argparse.Namespace) -> int:
    """`britizen growth report [--json] [--weeks N]`: the operators' growth report."""
    import json

    from api.operator import growth_model
    from services.clock import system_clock
    from services.growth_report import MAX_WEEKS, GrowthReportService, PopulationFileError
    from storage.db import Database
    from storage.migrate import upgrade
    from texts import growth as words

    if not 1 <= args.weeks <= MAX_WEEKS:
        print(f"britizen: --weeks must be from 1 to {MAX_WEEKS}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)

    async def report() -> int:
        db = Database(settings.database_url)
        service = GrowthReportService(db, system_clock, settings.population_file)
        # Progress goes to stderr, so --json output stays a clean document on stdout.
        progress = None if args.quiet else (lambda line: print(line, file=sys.stderr))
        try:
            result = await service.report(
                weeks=args.weeks, strict_population=True, progress=progress
            )
        except PopulationFileError as problem:
            print(f"britizen: {problem}", file=sys.stderr)
            return 2
        finally:
            await db.close()
        if args.json:
            print(json.dumps(growth_model(result).model_dump(mode="json"), indent=2))
        else:
            print("\n".join(words.render_report(result)))
        return 0

    return asyncio.run(report())


def _add_operator_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    operator = commands.add_parser("operator", help="manage operators (the growth report's keys)")
    operator_commands = operator.add_subparsers(
        dest="operator_command", required=True, metavar="ACTION"
    )
    operator_add = operator_commands.add_parser(
        "add", help="create an operator; prints its API key once"
    )
    operator_add.add_argument("name")
    operator_add.set_defaults(handler=_cmd_operator_add)


# -- `britizen growth ...`: one subparser group; each growth command adds itself below ---------


def _add_growth_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    growth = commands.add_parser("growth", help="growth: the adoption report and outreach")
    growth_commands = growth.add_subparsers(dest="growth_command", required=True, metavar="ACTION")

    # growth report (operators' adoption report)
    report = growth_commands.add_parser(
        "report", help="adoption over time, by postcode area and stage; the referral funnel"
    )
    report.add_argument("--json", action="store_true", help="one JSON document (stable schema)")
    report.add_argument("--weeks", type=int, default=12, help="weeks in the series (1-104)")
    report.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    report.set_defaults(handler=_cmd_growth_report)

    # growth ambassadors / campaign / contest (outreach to citizens who opted in)
    add_growth_outreach_commands(growth_commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="britizen", description="Britizen citizen-score service")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot, HTTP server and scheduler (migrates first)")
    run.set_defaults(handler=_cmd_run)

    score = commands.add_parser("score", help="run one scoring pass now")
    score.set_defaults(handler=_cmd_score)

    demo = commands.add_parser("demo-data", help="create a synthetic population")
    demo.add_argument("--users", type=int, default=1000)
    demo.add_argument("--avg-friends", type=float, default=20)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(handler=_cmd_demo_data)

    sponsor = commands.add_parser("sponsor", help="manage sponsors (HTTP API clients)")
    sponsor_commands = sponsor.add_subparsers(
        dest="sponsor_command", required=True, metavar="ACTION"
    )
    sponsor_add = sponsor_commands.add_parser(
        "add", help="create a sponsor; prints its API key once"
    )
    sponsor_add.add_argument("name")
    sponsor_add.set_defaults(handler=_cmd_sponsor_add)

    partner = commands.add_parser("partner", help="manage data partners (events, score look-ups)")
    partner_commands = partner.add_subparsers(
        dest="partner_command", required=True, metavar="ACTION"
    )
    partner_add = partner_commands.add_parser(
        "add", help="create a data partner; prints its API key once"
    )
    partner_add.add_argument("name")
    partner_add.set_defaults(handler=_cmd_partner_add)

    payments = commands.add_parser("payments", help="loan repayments: overpayments and refunds")
    payment_commands = payments.add_subparsers(
        dest="payments_command", required=True, metavar="ACTION"
    )
    overpaid = payment_commands.add_parser(
        "overpaid", help="list overpayments waiting to be refunded"
    )
    overpaid.set_defaults(handler=_cmd_payments_overpaid)
    refunded = payment_commands.add_parser("refunded", help="record that a refund was made")
    refunded.add_argument("id", type=int)
    refunded.set_defaults(handler=_cmd_payments_refunded)

    events = commands.add_parser("events", help="partners' payment events held for review")
    event_commands = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    held = event_commands.add_parser("held", help="list batches held for review")
    held.set_defaults(handler=_cmd_events_held)
    release = event_commands.add_parser("release", help="let a held batch count")
    release.add_argument("id", type=int)
    release.set_defaults(handler=_cmd_events_release)

    add_boost_commands(commands)
    _add_operator_commands(commands)
    _add_growth_commands(commands)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="apply migrations")
    db_upgrade.add_argument("revision", nargs="?", default="head")
    db_upgrade.set_defaults(handler=_cmd_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        return int(args.handler(settings, args))
    except SettingsError as problem:
        print(f"britizen: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
