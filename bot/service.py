"""The service's life cycle: database, bot, HTTP server and scheduler in one process."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram import Update

from bot.app import BotApplication, build_application
from bot.server import build_web_app
from bot.settings import Settings
from handlers.commands import bot_commands
from notifications.dispatcher import Dispatcher
from notifications.housekeeping import OutboxPruner
from notifications.promotions import PromotionFanout
from notifications.reminders import ReminderScan
from notifications.send_budget import SendBudget, bot_id_from_token
from services.clock import Clock, system_clock
from services.container import Services
from services.scoring_pass import PassAlreadyRunning, PassSummary
from storage.db import Database
from storage.leader import LeaderElection
from storage.locks import job_lock
from texts.i18n import WELSH

if TYPE_CHECKING:
    from bot.sandbox import Sandbox

logger = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 10
# How long stop() waits for a scheduled job that is running (a scoring pass takes ~30 s at 1M).
JOB_DRAIN_SECONDS = 60
# Scheduled promotions start and expired ones stop within this many seconds.
PROMOTION_TICK_SECONDS = 5


class PortUnavailable(Exception):
    """The HTTP port could not be bound; the message is one line, fit for an operator."""


class BritizenService:
    """Start and stop everything in order; tests drive the same object the CLI runs."""

    def __init__(
        self, settings: Settings, *, clock: Clock = system_clock, sandbox: Sandbox | None = None
    ) -> None:
        self.settings = settings
        # Sandbox mode: the bot's Bot API is the in-process stand-in (see bot/sandbox.py).
        self.sandbox = sandbox
        pool = (
            {}
            if settings.is_sqlite
            else {
                "pool_size": settings.database_pool_size,
                "max_overflow": settings.database_max_overflow,
            }
        )
        self.db = Database(settings.database_url, **pool)
        self.services = Services.build(
            self.db,
            settings.resolved_secret_key(),
            clock,
            settings.tz,
            admin_ids=frozenset(settings.admin_ids),
            document_key=settings.resolved_document_key(),
            public_url=settings.public_base_url,
        )
        self.webhook_mode = settings.webhook_url is not None
        # One send rate for the bot across every instance: replies and the outbox both spend it.
        self.send_budget = SendBudget(
            self.db, bot_id_from_token(settings.require_token()), settings.send_rate
        )
        self.application: BotApplication = build_application(
            settings, self.services, self.send_budget, with_updater=not self.webhook_mode
        )
        self._runner: web.AppRunner | None = None
        self._stopped = False
        self.dispatcher = Dispatcher(
            self.db,
            self.application.bot,
            clock,
            settings.send_rate,
            budget=self.send_budget,
            timezone=settings.tz,
            paid_send_rate=settings.paid_send_rate,
            # The sandbox is a demo: its broadcasts go out whatever the hour.
            quiet_hours=settings.broadcast_quiet_hours and sandbox is None,
        )
        self.reminders = ReminderScan(self.db, clock, settings.tz)
        self.promotions = PromotionFanout(self.db, clock, settings.tz, chunk=settings.fanout_chunk)
        self.services.promotions.configure_delivery(
            send_rate=settings.send_rate,
            paid_send_rate=settings.paid_send_rate,
            quiet_hours=settings.broadcast_quiet_hours and sandbox is None,
        )
        self.outbox_pruner = OutboxPruner(
            self.db,
            clock,
            keep_sent_days=settings.outbox_keep_sent_days,
            keep_failed_days=settings.outbox_keep_failed_days,
        )
        self._promotions_running = False
        self._promotions_again = False
        self._promotion_kicks: set[asyncio.Task[None]] = set()
        # Scheduled jobs running right now: stop() lets them finish before closing the
        # database (APScheduler's shutdown would cancel them mid-transaction).
        self._running_jobs: set[asyncio.Task[Any]] = set()
        self.scheduler = AsyncIOScheduler(timezone=settings.tz)
        self._stop_sender = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        # One instance at a time runs the scheduled jobs and the outbox sender (so the send
        # rate holds across all instances); the others only answer webhooks and the API.
        self.leader = LeaderElection(
            self.db,
            retry_seconds=settings.leader_retry_seconds,
            on_elected=self._lead,
            on_deposed=self._follow,
        )
        self.instance_name = settings.instance_name or f"{socket.gethostname()}:{os.getpid()}"
        self.http_port: int | None = None

    async def start(self) -> None:
        app = self.application
        await app.initialize()  # calls getMe: fails fast on a wrong token or unreachable API
        await app.bot.set_my_commands(bot_commands())
        await app.bot.set_my_commands(bot_commands(WELSH), language_code=WELSH)
        await app.start()
        if self.sandbox is not None:
            await self.sandbox.prepare(self)
        # Connections opened now, not by the first burst of updates (see storage.db).
        await self.db.warm_up(self.settings.database_pool_size)
        await self._start_http()
        await self._start_background()
        if self.webhook_mode:
            assert self.settings.webhook_url is not None
            await app.bot.set_webhook(
                self.settings.webhook_url,
                secret_token=self.settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            await app.bot.delete_webhook()
            assert app.updater is not None
            await app.updater.start_polling(
                allowed_updates=Update.ALL_TYPES, timeout=POLL_TIMEOUT_SECONDS, poll_interval=0
            )
        logger.info(
            "Britizen is running as @%s (%s), HTTP on %s:%s",
            app.bot.username,
            "webhook" if self.webhook_mode else "long polling",
            self.settings.http_host,
            self.http_port,
        )
        if self.sandbox is not None:
            self.sandbox.announce(self)
        # Everything loaded so far (modules, handlers, the ORM's mappers) lives as long as the
        # process: moved out of the collector's sight, a full collection scans only what
        # updates create, instead of pausing every update for tens of milliseconds.
        gc.freeze()

    async def stop(self) -> None:
        """Stop in reverse order; safe to call twice and after a half-finished start."""
        if self._stopped:
            return
        self._stopped = True
        app = self.application
        await self.leader.stop()  # stops the sender and releases the lock for a survivor
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; the running ones finish
        if self._running_jobs:
            await asyncio.wait(list(self._running_jobs), timeout=JOB_DRAIN_SECONDS)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for kick in list(self._promotion_kicks):
            await kick
        if app.updater is not None and app.updater.running:
            # Stopping the updater confirms the last offset, so nothing is fetched twice.
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if self.sandbox is not None:
            await self.sandbox.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        try:
            await self.send_budget.close()  # seats it holds go back to the other instances
        except Exception:
            logger.exception("handing back the send seats failed; they free themselves")
        await self.db.close()
        logger.info("Britizen stopped cleanly")

    @property
    def stopped(self) -> bool:
        return self._stopped

    def _tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """The job, remembered while it runs so stop() can wait for it."""

        @functools.wraps(job)
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running_jobs.add(task)
            try:
                await job()
            finally:
                if task is not None:
                    self._running_jobs.discard(task)

        return run

    async def _start_background(self) -> None:
        """Add the jobs to a paused scheduler; it runs only while this instance leads."""
        self.scheduler.add_job(
            self._tracked(self.run_scoring_pass),
            CronTrigger.from_crontab(self.settings.scoring_cron, timezone=self.settings.tz),
            id="scoring",
            max_instances=1,
            coalesce=True,
            # APScheduler's default grace is 1 s: a pass due while we were down would be dropped.
            misfire_grace_time=6 * 3600,
        )
        # Reminders are rows; the scheduler only ticks. The first tick runs at start-up, so
        # anything still relevant after downtime goes out straight away.
        self.scheduler.add_job(
            self._tracked(self.run_reminder_scan),
            IntervalTrigger(minutes=1, timezone=self.settings.tz),
            id="reminders",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self.settings.tz),
        )
        self.scheduler.add_job(
            self._tracked(self.run_promotions),
            IntervalTrigger(seconds=PROMOTION_TICK_SECONDS, timezone=self.settings.tz),
            id="promotions",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self.settings.tz),
        )
        # Housekeeping: the processed-updates ledger would otherwise grow by a row per update
        # forever; hourly keeps each delete small.
        self.scheduler.add_job(
            self._tracked(self.run_housekeeping),
            IntervalTrigger(hours=1, timezone=self.settings.tz),
            id="housekeeping",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start(paused=True)
        await self.leader.start()

    async def _lead(self) -> None:
        self._stop_sender.clear()
        self._sender = asyncio.create_task(self.dispatcher.run(self._stop_sender), name="outbox")
        self.scheduler.resume()
        # Catch up at once on taking over rather than at the next interval: after a failover
        # the reminders due meanwhile go out straight away.
        now = datetime.now(self.settings.tz)
        for job in self.scheduler.get_jobs():
            if isinstance(job.trigger, IntervalTrigger):
                job.modify(next_run_time=now)

    async def _follow(self) -> None:
        if self.scheduler.running:
            self.scheduler.pause()
        self._stop_sender.set()
        if self._sender is not None:
            await self._sender  # the batch in flight finishes and is recorded
            self._sender = None

    def request_promotion_run(self) -> None:
        """Fan out now (a promotion starting now was just created) instead of at the next tick."""
        if self._stopped:
            return
        task = asyncio.create_task(self.run_promotions(), name="promotions-kick")
        self._promotion_kicks.add(task)
        task.add_done_callback(self._promotion_kicks.discard)

    async def run_promotions(self) -> None:
        """Fan out due promotions and expire old ones, one run at a time in this process (a
        request arriving mid-run makes the run go round again, so none waits for the next tick)
        and one at a time across instances (the job lock)."""
        self._promotions_again = True
        if self._promotions_running:
            return
        self._promotions_running = True
        try:
            while self._promotions_again and not self._stopped:
                self._promotions_again = False
                async with job_lock(self.db, "promotions") as held:
                    if held:
                        await self.promotions.run_once()
        except Exception:
            logger.exception("promotion fan-out failed; the next tick will retry")
        finally:
            self._promotions_running = False

    async def run_reminder_scan(self) -> None:
        try:
            async with job_lock(self.db, "reminders") as held:
                if held:
                    await self.reminders.run_once()
        except Exception:
            logger.exception("reminder scan failed; the next tick will retry")

    async def run_housekeeping(self) -> None:
        """Forget processed update ids older than KEEP_PROCESSED_FOR (services/updates.py),
        erased accounts' records past their six years (services/retention.py) and score history
        past its retention rule (services/score_history.py)."""
        try:
            async with job_lock(self.db, "housekeeping") as held:
                if held:
                    pruned = await self.services.updates.prune()
                    if pruned:
                        logger.info("pruned %d processed-update ids", pruned)
                    expired = await self.services.data_rights.purge_retained()
                    if expired:
                        logger.info("deleted %d retained records past six years", expired)
                    # Score history past its retention rule; next months' partitions.
                    await self.services.score_history.upkeep()
                    documents = await self.services.ni_claims.purge_documents()
                    if documents:
                        logger.info("deleted %d NI-claim documents past their limit", documents)
                    # Finished outbox rows past their period (notifications/housekeeping.py).
                    await self.outbox_pruner.prune()
        except Exception:
            logger.exception("housekeeping failed; the next tick will retry")

    async def run_scoring_pass(self) -> None:
        """The scheduled nightly job: never raises, so the scheduler keeps its schedule."""
        try:
            await self.run_nightly_pass()
        except PassAlreadyRunning:
            logger.info("scoring pass skipped: another pass is running")
        except Exception:
            logger.exception("scoring pass failed; the previous scores stay in place")

    async def run_nightly_pass(self) -> PassSummary:
        """Held partner events, then the scoring pass; raises PassAlreadyRunning (the sandbox
        page's "run the nightly pass now" answers with it)."""
        try:
            # Held partner events for people who never registered go after 90 days; nightly,
            # before the pass, is often enough (nothing reads them but registration).
            await self.services.events.apply_matched()
            purged = await self.services.events.purge_expired()
            if purged:
                logger.info("purged %d held partner events older than 90 days", purged)
        except Exception:
            logger.exception("purging held partner events failed; the next pass retries")
        return await self.services.scoring.run()

    async def _start_http(self) -> None:
        self._runner = web.AppRunner(build_web_app(self), access_log=None)
        await self._runner.setup()
        host, port = self.settings.http_host, self.settings.http_port
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as problem:
            # The commonest start-up mistake (another Britizen, or anything on 8080): say what
            # to change in one line rather than a traceback through aiohttp and asyncio.
            raise PortUnavailable(
                f"cannot listen on {host}:{port} "
                f"({os.strerror(problem.errno) if problem.errno else problem}): "
                "set BRITIZEN_HTTP_PORT to a free port"
            ) from problem
        server = site._server  # aiohttp exposes the bound port only here (port 0 in tests)
        sockets = getattr(server, "sockets", None) or []
        self.http_port = sockets[0].getsockname()[1] if sockets else self.settings.http_port


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sandbox = None
    if not settings.telegram_token:
        from bot.sandbox import Sandbox

        sandbox = Sandbox()
        await sandbox.start()
        settings = sandbox.wire(settings)
    service = BritizenService(settings, sandbox=sandbox)
    try:
        await service.start()
        await stop.wait()
        logger.info("shutdown requested")
    finally:
        await service.stop()
