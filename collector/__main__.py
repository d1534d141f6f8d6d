"""``rtcsim-collector``: run the collector service.

Listens for Janus events (``/events``) and LiveKit webhooks (``/livekit``) on
``events_host:events_port`` inside ``events_netns`` (the media server refuses loopback ICE, so it
lives in a namespace and posts its events there) and serves every route on
``api_host:api_port`` in the root namespace for the simulator. Installs the index template at
start, stops on SIGTERM/SIGINT after flushing pending documents. A start-up failure (port taken,
Elasticsearch unreachable, bad setting) is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Sequence

import uvloop
from aiohttp import web
from pydantic import ValidationError

from collector.app import create_app
from collector.clock import SystemClock
from collector.netns import NetnsError, listening_socket
from collector.probes import PsutilProbe
from collector.settings import CollectorSettings
from collector.store import ElasticsearchStore, StoreError, make_store

log = logging.getLogger("collector")

EXIT_STARTUP = 2


class StartupError(RuntimeError):
    """The service cannot start; the message is the one line the operator sees."""


def parser() -> argparse.ArgumentParser:
    """One ``--flag`` per setting (``es_hosts`` → ``--es-hosts``; lists are comma-separated)."""
    p = argparse.ArgumentParser(
        prog="rtcsim-collector",
        description="Janus events and LiveKit webhooks in, OpenVidu Pro monitoring documents out.",
        epilog="Every flag can also be set as RTCSIM_COLLECTOR_<NAME> in the environment.",
    )
    for name, info in CollectorSettings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        hidden = any(word in name for word in ("password", "key", "secret")) or name == "token"
        shown = "****" if hidden else default
        help_text = f"{info.description or ''} (default: {shown})".strip()
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None, help=help_text)
    return p


def settings_from(argv: Sequence[str] | None) -> CollectorSettings:
    args = parser().parse_args(argv)
    overrides: dict[str, object] = {}
    for name, value in vars(args).items():
        if value is None:
            continue
        overrides[name] = value.split(",") if name == "es_hosts" else value
    return CollectorSettings(**overrides)  # type: ignore[arg-type]


def _listen(host: str, port: int, netns: str | None) -> socket.socket:
    try:
        return listening_socket(host, port, netns)
    except OSError as exc:
        raise StartupError(exc.strerror or str(exc)) from None
    except NetnsError as exc:
        raise StartupError(str(exc)) from None


async def serve(settings: CollectorSettings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGTERM/SIGINT); flush and close on the way out."""
    stop = stop or asyncio.Event()
    store = make_store(settings)
    try:
        if isinstance(store, ElasticsearchStore):
            await store.check()
        await store.install_template()
        events_sock = _listen(settings.events_host, settings.events_port, settings.events_netns)
        api_sock = _listen(settings.api_host, settings.api_port, None)
    except StoreError as exc:
        await store.close()
        raise StartupError(str(exc)) from None
    except StartupError:
        await store.close()
        raise
    probe = PsutilProbe(settings.janus_pid_file) if settings.monitoring_interval_s > 0 else None
    app = create_app(settings, store, SystemClock(), probe)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    for sock in (events_sock, api_sock):
        await web.SockSite(runner, sock).start()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    where = f" in namespace {settings.events_netns}" if settings.events_netns else ""
    log.info(
        "listening: Janus events on %s:%d%s, API on %s:%d; writing to %s index %r",
        settings.events_host,
        events_sock.getsockname()[1],
        where,
        settings.api_host,
        api_sock.getsockname()[1],
        settings.store,
        settings.index,
    )
    try:
        await stop.wait()
    finally:
        log.info("stopping: flushing pending documents")
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = settings_from(argv)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        print(f"rtcsim-collector: error: {where}: {first['msg']}", file=sys.stderr)
        return EXIT_STARTUP
    logging.basicConfig(
        stream=sys.stderr,
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # The client logs every transport retry with a traceback; the store logs its own retries.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    try:
        # uvloop: the collector is one process on one core, and aiohttp's request handling on
        # the stock loop was a fifth of its CPU under ingest (make bench, benchmark 3).
        uvloop.run(serve(settings))
    except StartupError as exc:
        print(f"rtcsim-collector: error: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    return 0


if __name__ == "__main__":
    sys.exit(main())
