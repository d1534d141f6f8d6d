"""Impairment inside a peer's own aiortc transports: no root, per peer, seeded.

aiortc's ``RTCIceTransport`` exposes ``_send`` / ``_recv`` as *instance attributes* (bound to
its aioice connection, ``aiortc/rtcicetransport.py``), and ``RTCDtlsTransport`` calls
``self.transport._send(data)`` / ``await self.transport._recv()`` for every DTLS, SRTP/SRTCP
and SCTP datagram. Replacing those two attributes puts a link model (``shaper.LinkShaper``)
between the peer and its socket without touching aiortc. ICE's own STUN checks do not go
through them, so an impaired peer keeps its ICE pair, as a browser on a lossy Wi-Fi does; only
``silence()`` also gags STUN, because a peer that vanished answers nothing.

Everything here runs on the event loop of the peers (in rtcsim, the client namespace's
``NamespaceLoop``): call ``attach``/``set``/``silence`` from a coroutine on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from simulator.impairment.model import NONE, SILENT, Impairment
from simulator.impairment.shaper import LinkCounters, LinkShaper, Verdict

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], Awaitable[None]]


class DatagramTransport(Protocol):
    """What the impairer needs of a transport: aiortc's ``RTCIceTransport`` is one."""

    _send: Callable[[bytes], Awaitable[None]]
    _recv: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class ImpairmentCounters:
    """A snapshot of both directions of one impairer."""

    up: LinkCounters
    down: LinkCounters


class _Pipe:
    """One direction of one transport: the shaper's verdicts turned into deliveries.

    A packet due now with nothing held back goes straight through, awaited by the caller, so
    an unimpaired link adds no task switch and keeps aiortc's error behaviour (a send on a
    closed transport raises to the sender, as without us). Held-back packets wait in a heap
    ordered by due time and a single release task delivers them; its timer is a loop
    ``call_at`` on a future, woken early when a packet due sooner arrives.
    """

    def __init__(self, shaper: LinkShaper, counters: LinkCounters, deliver: Deliver) -> None:
        self._shaper = shaper
        self._counters = counters
        self._deliver = deliver
        self._heap: list[tuple[float, int, bytes]] = []
        self._seq = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._wake_at = float("inf")

    async def offer(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        counters = self._counters
        counters.offered += 1
        verdict, due = self._shaper.admit(len(data), now)
        if verdict is Verdict.LOSS:
            counters.dropped_loss += 1
            return
        if verdict is Verdict.QUEUE:
            counters.dropped_queue += 1
            return
        if due <= now and not self._heap:
            await self._deliver(data)
            counters.passed += 1
            counters.bytes_passed += len(data)
            return
        counters.delayed += 1
        heapq.heappush(self._heap, (due, next(self._seq), data))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._release())
        elif due < self._wake_at and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def purge(self) -> int:
        """Forget every held-back packet (the link vanished); how many there were."""
        count = len(self._heap)
        self._heap.clear()
        return count

    def cancel(self) -> asyncio.Task[None] | None:
        self.purge()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    async def _release(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while self._heap and self._heap[0][0] <= loop.time():
                _, _, data = heapq.heappop(self._heap)
                try:
                    await self._deliver(data)
                except ConnectionError:
                    # The transport closed while the packet was on its way: it is lost.
                    self._counters.send_errors += 1
                    continue
                except Exception:
                    log.exception("impaired delivery failed")
                    self._counters.send_errors += 1
                    continue
                self._counters.passed += 1
                self._counters.bytes_passed += len(data)
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            handle = None
            if self._heap:
                self._wake_at = self._heap[0][0]
                handle = loop.call_at(self._wake_at, _resolve, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                self._wake_at = float("inf")
                if handle is not None:
                    handle.cancel()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_DETACHED = object()


class _Hooked:
    """The impairer's grip on one transport: its original methods, pipes and inbox."""

    def __init__(
        self,
        transport: DatagramTransport,
        owner: int | None,
        up: tuple[LinkShaper, LinkCounters],
        down: tuple[LinkShaper, LinkCounters],
    ) -> None:
        self.transport = transport
        self.owner = owner  # id() of the peer connection it belongs to, if any
        self.original_send = transport._send
        self.original_recv = transport._recv
        self.inbox: asyncio.Queue[object] = asyncio.Queue()
        self.up = _Pipe(*up, self.original_send)
        self.down = _Pipe(*down, self._to_inbox)
        self.pump: asyncio.Task[None] | None = None
        self.detached = False
        self.gagged: list[Any] = []

    async def _to_inbox(self, data: bytes) -> None:
        self.inbox.put_nowait(data)

    async def send(self, data: bytes) -> None:
        await self.up.offer(data)

    async def recv(self) -> bytes:
        """The replacement ``_recv``: the next datagram that survived the downlink.

        The pump starts on the first call, not at attach time: aioice raises
        ``ConnectionError`` on ``recv`` before ICE has nominated a pair, and aiortc only calls
        ``_recv`` after that. A pump that ends with an error hands it over through the inbox,
        so the DTLS transport sees the same ``ConnectionError`` it would have seen.
        """
        if self.detached:
            return await self.original_recv()
        if self.pump is None or self.pump.done():
            self.pump = asyncio.get_running_loop().create_task(self._pump())
        item = await self.inbox.get()
        if item is _DETACHED:
            return await self.original_recv()
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, bytes)
        return item

    async def _pump(self) -> None:
        while True:
            try:
                data = await self.original_recv()
            except Exception as exc:
                self.inbox.put_nowait(exc)
                return
            await self.down.offer(data)

    def gag_stun(self) -> None:
        """Mute ICE itself: no connectivity or consent checks, no answers to the far end's.

        aioice's ``StunProtocol`` objects are reached through ``transport._connection``; their
        ``send_stun``/``send_data``/``datagram_received`` are replaced on the instance, so
        the sockets stay open and ``ungag_stun`` can give the peer its voice back.
        """
        connection = getattr(self.transport, "_connection", None)
        for protocol in list(getattr(connection, "_protocols", [])):
            if protocol in self.gagged:
                continue
            protocol.send_stun = _swallow
            protocol.send_data = _swallow_async
            protocol.datagram_received = _swallow
            self.gagged.append(protocol)

    def ungag_stun(self) -> None:
        for protocol in self.gagged:
            for name in ("send_stun", "send_data", "datagram_received"):
                vars(protocol).pop(name, None)
        self.gagged.clear()


def _swallow(*_args: object) -> None:
    return None


async def _swallow_async(*_args: object) -> None:
    return None


class InProcessImpairer:
    """Impairs every transport of the peer connections attached to it, as one access link.

    One impairer per participant: its publisher and subscriber peer connections share one
    uplink and one downlink (one shaper each), as a browser's tabs share one Wi-Fi. UP is what
    this process sends (peer -> server), DOWN what it receives.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._up = LinkShaper(rng)
        self._down = LinkShaper(rng)
        self._up_counters = LinkCounters()
        self._down_counters = LinkCounters()
        self._hooked: dict[int, _Hooked] = {}
        self._pcs: dict[int, Any] = {}
        self._silenced = False
        self._cancelled: list[asyncio.Task[None]] = []  # awaited by close()

    # -- attaching -------------------------------------------------------------------------
    def attach(self, pc: Any) -> None:
        """Impair every ICE transport of ``pc``, now and after each later description.

        Call it right after ``setLocalDescription`` (offerer or answerer): aiortc has then
        created every transport of the offer/answer, and no DTLS packet has flowed yet (DTLS
        starts in a task scheduled by that call). Transports that renegotiation creates later
        are picked up because ``setLocalDescription``/``setRemoteDescription`` are wrapped on
        this ``pc`` instance to attach again after they return. Calling ``attach`` twice is
        harmless.
        """
        key = id(pc)
        if key not in self._pcs:
            self._pcs[key] = pc
            for name in ("setLocalDescription", "setRemoteDescription"):
                setattr(pc, name, self._rescanning(pc, getattr(pc, name)))
        self._attach_all(pc)

    def _attach_all(self, pc: Any) -> None:
        for transport in ice_transports(pc):
            self._hook(transport, id(pc))

    def _rescanning(
        self, pc: Any, method: Callable[..., Awaitable[None]]
    ) -> Callable[..., Awaitable[None]]:
        async def wrapped(*args: Any, **kwargs: Any) -> None:
            await method(*args, **kwargs)
            if id(pc) in self._pcs:
                self._attach_all(pc)

        return wrapped

    def attach_transport(self, transport: DatagramTransport) -> None:
        """Impair one transport (anything with aiortc's ``_send``/``_recv`` attributes)."""
        self._hook(transport, None)

    def detach_transport(self, transport: DatagramTransport) -> None:
        self._unhook(id(transport))

    def _hook(self, transport: DatagramTransport, owner: int | None) -> None:
        if id(transport) in self._hooked:
            return
        hooked = _Hooked(
            transport, owner, (self._up, self._up_counters), (self._down, self._down_counters)
        )
        self._hooked[id(transport)] = hooked
        transport._send = hooked.send
        transport._recv = hooked.recv
        if self._silenced:
            hooked.gag_stun()

    def detach(self, pc: Any) -> None:
        """Give ``pc``'s transports back their own ``_send``/``_recv``.

        Held-back packets are forgotten. A ``_recv`` waiting on the impairer is handed over
        to the original, so the peer keeps working unimpaired.
        """
        self._pcs.pop(id(pc), None)
        for name in ("setLocalDescription", "setRemoteDescription"):
            vars(pc).pop(name, None)
        # By owner, not by ice_transports(pc): BUNDLE may have discarded some since attach.
        for key in [k for k, h in self._hooked.items() if h.owner == id(pc)]:
            self._unhook(key)

    def _unhook(self, key: int) -> None:
        hooked = self._hooked.pop(key, None)
        if hooked is None:
            return
        transport = hooked.transport
        transport._send = hooked.original_send
        transport._recv = hooked.original_recv
        hooked.detached = True
        hooked.ungag_stun()
        hooked.inbox.put_nowait(_DETACHED)
        for task in (hooked.down.cancel(), hooked.up.cancel(), hooked.pump):
            if task is not None:
                task.cancel()
                self._cancelled.append(task)

    async def close(self) -> None:
        """Detach from everything and wait for the impairer's tasks to end."""
        for pc in list(self._pcs.values()):
            self.detach(pc)
        for key in list(self._hooked):
            self._unhook(key)
        tasks, self._cancelled = self._cancelled, []
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- impairing -------------------------------------------------------------------------
    def set(self, up: Impairment = NONE, down: Impairment = NONE) -> None:
        """Impair from now on; packets already held back keep their due time.

        Also ends a ``silence()``.
        """
        self._silenced = False
        for hooked in self._hooked.values():
            hooked.ungag_stun()
        self._up.impairment = up
        self._down.impairment = down

    def silence(self) -> None:
        """The peer vanishes: nothing in or out from now on, held-back packets included.

        Meant for an abrupt drop: silence, then close the peer connection. Its RTCP BYE,
        SCTP ABORT and DTLS close_notify all go through ``_send`` and are dropped, and STUN is
        gagged too, so the server learns of the loss only by its timeouts, as with a browser
        whose network cable was pulled.
        """
        self._silenced = True
        self._up.impairment = SILENT
        self._down.impairment = SILENT
        for hooked in self._hooked.values():
            self._up_counters.dropped_loss += hooked.up.purge()
            self._down_counters.dropped_loss += hooked.down.purge()
            hooked.gag_stun()

    @property
    def impairments(self) -> tuple[Impairment, Impairment]:
        """``(up, down)`` in force."""
        return self._up.impairment, self._down.impairment

    @property
    def silenced(self) -> bool:
        return self._silenced

    @property
    def counters(self) -> ImpairmentCounters:
        return ImpairmentCounters(self._up_counters.copy(), self._down_counters.copy())


def ice_transports(pc: Any) -> list[Any]:
    """Every distinct ``RTCIceTransport`` of an aiortc peer connection (BUNDLE shares one)."""
    found: dict[int, Any] = {}
    for transceiver in pc.getTransceivers():
        for end in (transceiver.sender, transceiver.receiver):
            dtls = getattr(end, "transport", None)
            if dtls is not None:
                found.setdefault(id(dtls.transport), dtls.transport)
    if pc.sctp is not None:
        found.setdefault(id(pc.sctp.transport.transport), pc.sctp.transport.transport)
    return list(found.values())
