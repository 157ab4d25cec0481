"""The `britizen` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings


def _cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    settings.require_token()  # before the heavy imports: a missing token should answer at once
    from bot.service import serve
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    asyncio.run(serve(settings))
    return 0


def _cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="britizen", description="Britizen citizen-score service")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot, HTTP server and scheduler (migrates first)")
    run.set_defaults(handler=_cmd_run)

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
