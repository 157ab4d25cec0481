"""Run the Bot API stand-in as its own process (benchmarks, manual poking).

    python -m standin --port 8081 --rate 30

The first line on stdout is ``STANDIN_PORT=<port>`` (useful with ``--port 0``); the server then
runs until SIGTERM or SIGINT. Control and statistics routes live under ``/_standin/``:
``GET stats``, ``GET calls?since=N``, ``GET messages?chat_id=N``, ``POST updates``,
``POST fail_next``, ``POST block``, ``POST unblock``, ``POST reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from standin.common import DEFAULT_BOT_USERNAME
from standin.server import BotApiStandIn


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--rate", type=float, default=None, help="global sends per second (429 above it)"
    )
    parser.add_argument(
        "--per-chat-rate", type=float, default=None, help="sends per second per chat"
    )
    parser.add_argument("--strict-chats", action="store_true", help="unknown chats answer 400")
    parser.add_argument(
        "--no-record-params",
        action="store_true",
        help="keep only compact call records (for very long runs)",
    )
    parser.add_argument("--token", default=None, help="accept only this bot token")
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    return parser


async def _serve(args: argparse.Namespace) -> None:
    standin = BotApiStandIn(
        token=args.token,
        bot_username=args.bot_username,
        strict_chats=args.strict_chats,
        rate_limit_per_second=args.rate,
        per_chat_rate_per_second=args.per_chat_rate,
        record_params=not args.no_record_params,
    )
    await standin.start(args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"STANDIN_PORT={standin.port}", flush=True)
    print(f"standin: serving the Bot API at {standin.base_url}<token>/", file=sys.stderr)
    try:
        await stop.wait()
    finally:
        await standin.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
