"""A real browser in the client namespace: Debian's Chromium running Meetecho's janus.js.

The page (``page.html`` + ``harness.js``, with ``janus.js`` and ``adapter.js`` as Debian ships
them in ``/usr/share/javascript``) is served by an aiohttp server on 127.0.0.1 *inside* the
client namespace: an ``http://198.18.x`` origin is not a secure context, and there
``navigator.mediaDevices`` (getUserMedia) does not exist. Chromium runs in the same namespace
(``ip netns exec``) so its ICE candidates are namespace addresses, with a fake camera and
microphone, a fresh profile, and every background service that would try to go online off.

The page plays the roles it is given and posts one report (the browser's own getStats and the
times of what it did) to ``/report``; ``BrowserHarness.report`` waits for it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from simulator.netns_loop import NamespaceLoop

PAGE_DIR = Path(__file__).resolve().parent
JANUS_JS = Path("/usr/share/javascript/janus-gateway/janus.js")
ADAPTER_JS = Path("/usr/share/javascript/webrtc-adapter/adapter.js")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pings",
    "--no-first-run",
    "--disable-gpu",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--autoplay-policy=no-user-gesture-required",
    "--enable-logging=stderr",
)


def missing_parts() -> list[str]:
    """What the machine lacks to run the browser (``make setup`` installs all of it)."""
    return [str(p) for p in (CHROMIUM, JANUS_JS, ADAPTER_JS) if not p.exists()]


@dataclass
class BrowserHarness:
    """The page's server on the client namespace's loopback, and one Chromium showing it."""

    media: NamespaceLoop
    netns: str
    config: dict[str, Any]
    log_path: Path
    reports: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    port: int = 0
    _runner: web.AppRunner | None = None
    _chromium: asyncio.subprocess.Process | None = None
    _profile: Path | None = None
    _files: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._files = {
            "/": ((PAGE_DIR / "page.html").read_bytes(), "text/html"),
            "/harness.js": ((PAGE_DIR / "harness.js").read_bytes(), "text/javascript"),
            "/js/janus.js": (JANUS_JS.read_bytes(), "text/javascript"),
            "/js/adapter.js": (ADAPTER_JS.read_bytes(), "text/javascript"),
        }

    # -- the page's server (runs on the media loop, inside the namespace) ---------------------
    async def _serve(self, main_loop: asyncio.AbstractEventLoop) -> int:
        async def report(request: web.Request) -> web.Response:
            body = await request.json()
            main_loop.call_soon_threadsafe(self.reports.put_nowait, body)
            return web.json_response({"ok": True})

        async def config(_request: web.Request) -> web.Response:
            return web.json_response(self.config)

        async def static(request: web.Request) -> web.Response:
            body, kind = self._files[request.path]
            return web.Response(body=body, content_type=kind)

        app = web.Application()
        for path in self._files:
            app.router.add_get(path, static)
        app.router.add_get("/config", config)
        app.router.add_post("/report", report)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1])

    async def _unserve(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.port = await self.media.run(self._serve(asyncio.get_running_loop()))
        self._profile = Path(tempfile.mkdtemp(prefix="rtcsim-chromium-"))
        argv = [
            "ip", "netns", "exec", self.netns, str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self._profile}",
            f"http://127.0.0.1:{self.port}/",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            # A session of its own: Chromium's helpers (renderer, GPU, utility) are its
            # children, ended together by the group's id, which is the process we started.
            self._chromium = await asyncio.create_subprocess_exec(
                *argv, stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True
            )

    async def report(self, timeout_s: float) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout_s):
                return await self.reports.get()
        except TimeoutError:
            raise AssertionError(
                f"the browser sent no report within {timeout_s:.0f} s; its log: {self.log_path}"
            ) from None

    async def stop(self) -> None:
        proc = self._chromium
        if proc is not None and proc.returncode is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        await self.media.run(self._unserve())
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
