"""`tally`: serve, migrate, worker, export-schema, ledger verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from tally.settings import ConfigurationError, Environment, Settings, load_settings

log = logging.getLogger("tally")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from db.migrate import upgrade
    from tally.logs import configure_logging

    configure_logging(settings.log_level, json_lines=settings.is_production)
    if settings.env is not Environment.PRODUCTION or settings.is_sqlite:
        # Development and the embedded default migrate on start; production runs `tally migrate`.
        upgrade(settings.database_url)
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.web_concurrency
    if workers > 1 and settings.embedded:
        log.warning("the embedded default keeps events in memory: serving with one worker")
        workers = 1
    log.info("serving on http://%s:%d/graphql (%s)", host, port, settings.env.value)
    uvicorn.run(
        "graph.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
        ws_per_message_deflate=False,
    )
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    upgrade(settings.database_url)
    print(f"migrated {settings.database_url.split('@')[-1]} to the latest revision")
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    if settings.redis_url is None:
        print("tally worker: set TALLY_REDIS_URL (without Redis, jobs run inside `tally serve`)", file=sys.stderr)
        return 2
    from jobs.worker import run_until_stopped
    from tally.logs import configure_logging

    configure_logging(settings.log_level, json_lines=settings.is_production)

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_until_stopped(settings, stop)

    asyncio.run(work())
    return 0


def _export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from graph.schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def _ledger_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Print the verify summary; exit 1 on any violation (2 if the database cannot be read)."""
    import json

    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import Database
    from db.unit_of_work import transaction
    from domain.ledger.verify import record_run, run_verify

    async def run() -> int:
        database = Database.from_url(settings.database_url)
        try:
            report = await run_verify(database)
            if args.record:
                async with transaction(database) as session:
                    await record_run(session, report)
        except (SQLAlchemyError, OSError) as exc:
            print(f"tally ledger verify: cannot read the ledger: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        finally:
            await database.dispose()
        print(json.dumps(report.as_json(), indent=2) if args.json else report.summary())
        return 0 if report.ok else 1

    return asyncio.run(run())


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="tally", description="Tally's GraphQL API server.")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API (development migrates first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(run=_serve)
    commands.add_parser("migrate", help="upgrade the database to the latest revision").set_defaults(run=_migrate)
    commands.add_parser("worker", help="run the background job worker (needs TALLY_REDIS_URL)").set_defaults(
        run=_worker
    )
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)").set_defaults(run=_export_schema)
    ledger = commands.add_parser("ledger", help="ledger maintenance")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    verify = ledger_commands.add_parser("verify", help="check every ledger invariant; exit 1 on a violation")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--record", action="store_true", help="also store the result for admin tools")
    verify.set_defaults(run=_ledger_verify)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"tally: configuration error: {exc}", file=sys.stderr)
        return 2
    run: Callable[[Settings, argparse.Namespace], int] = args.run
    return run(settings, args)


if __name__ == "__main__":
    sys.exit(main())
