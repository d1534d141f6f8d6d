"""What all load users of one process share: the client-namespace loop, an HTTP session, the
Janus handle that creates rooms, the rooms made so far.

Locust runs users as greenlets; the peers run as asyncio tasks on a ``NamespaceLoop`` thread
inside the client namespace. ``call`` hands a coroutine to that loop and waits with ``wait``,
which for locust is a gevent-friendly poll (``locust_user.gevent_wait``), so one user waiting
never blocks the others.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import aiohttp

from simulator.driver import videoroom
from simulator.driver.janus_http import JanusHandle, JanusSession
from simulator.netns_loop import NamespaceLoop
from simulator.settings import Settings

T = TypeVar("T")
Wait = Callable[["concurrent.futures.Future[Any]", float], Any]
FEED_WAIT_S = 15.0


def blocking_wait(future: concurrent.futures.Future[T], timeout_s: float) -> T:
    """Outside gevent: block the calling thread."""
    return future.result(timeout_s)


class MediaHost:
    def __init__(self, settings: Settings, wait: Wait = blocking_wait) -> None:
        self.janus_url = settings.janus_url
        self._wait = wait
        self._rooms: set[str] = set()
        self.loop = NamespaceLoop(settings.client_netns, name="rtcsim-load-media")
        try:
            self.http: aiohttp.ClientSession = self.call(_new_http())
            self.admin_session: JanusSession = self.call(
                JanusSession.create(self.http, self.janus_url)
            )
            self.admin: JanusHandle = self.call(
                self.admin_session.attach(videoroom.PLUGIN, "rtcsim:load-admin")
            )
        except BaseException:
            self.loop.close()
            raise

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        result: T = self._wait(self.loop.submit(coro), timeout_s)
        return result

    def ensure_room(self, room: str) -> None:
        if room not in self._rooms:
            self.call(videoroom.create_room(self.admin, room, videoroom.RoomOptions()))
            self._rooms.add(room)

    def publishers(self, room: str, exclude: str) -> list[str]:
        """The feeds publishing in ``room`` (other than ``exclude``), once there is one."""
        return self.call(_wait_for_publishers(self.admin, room, exclude), FEED_WAIT_S + 5)

    def close(self) -> None:
        """Destroy the rooms made, end the admin session, stop the loop. Best effort."""
        for room in sorted(self._rooms):
            with contextlib.suppress(Exception):
                self.call(videoroom.destroy_room(self.admin, room), 10)
        self._rooms.clear()
        with contextlib.suppress(Exception):
            self.call(self.admin_session.destroy(), 10)
        with contextlib.suppress(Exception):
            self.call(self.http.close(), 10)
        self.loop.close()


async def _new_http() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


async def _wait_for_publishers(handle: JanusHandle, room: str, exclude: str) -> list[str]:
    """Janus lists a publisher only after its ``webrtcup``; until then there is nothing to
    subscribe to."""
    async with asyncio.timeout(FEED_WAIT_S):
        while True:
            listed = await videoroom.list_participants(handle, room)
            feeds = [
                str(p["id"]) for p in listed if p.get("publisher") and str(p.get("id")) != exclude
            ]
            if feeds:
                return feeds
            await asyncio.sleep(0.2)
