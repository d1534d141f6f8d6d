"""An asyncio event loop that lives inside a network namespace.

Every socket a thread opens belongs to that thread's namespace for its whole life. aiortc peers
and the Janus HTTP driver must open theirs inside the client namespace (the only place with a
route to Janus, see ``reference/janus-aiortc.md`` §1), while Elasticsearch and the collector API
are reached from the root namespace. So the peers get a loop of their own on a daemon thread
that entered the client namespace once, before the loop started; other code hands it
coroutines with ``submit`` / ``run`` / ``run_sync``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from collector.netns import enter_netns_forever

T = TypeVar("T")


class NamespaceLoop:
    """A daemon thread in network namespace ``netns`` running its own event loop forever.

    Starting raises ``collector.netns.NetnsError`` when the namespace cannot be entered, so a
    loop that exists is always inside its namespace.
    """

    def __init__(
        self, netns: str | None, *, name: str | None = None, start_timeout_s: float = 5.0
    ) -> None:
        """``netns`` None: a loop thread that stays in the caller's namespace (load users reach
        the collector on the root namespace's loopback from one)."""
        self.netns = netns
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, name=name or f"netns-loop-{netns}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(start_timeout_s):
            raise RuntimeError(f"event loop for namespace {netns!r} did not start")
        if self._failure is not None:
            raise self._failure

    def _main(self) -> None:
        try:
            if self.netns is not None:
                enter_netns_forever(self.netns)
            loop = asyncio.new_event_loop()
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            return
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                _cancel_all(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            raise RuntimeError(f"event loop for namespace {self.netns!r} is closed")
        return self._loop

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the namespace loop; thread-safe, returns at once."""
        try:
            loop = self.loop
        except RuntimeError:
            coro.close()  # never awaited: close it so Python does not warn
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` running on the namespace loop from another event loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the namespace loop and block this (non-loop) thread for its result."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("run_sync called from the namespace loop itself: await it instead")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self, timeout: float = 10.0) -> None:
        """Cancel what is still running on the loop, stop it and join the thread. Idempotent."""
        loop = self._loop
        if loop is not None and not loop.is_closed() and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> NamespaceLoop:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
