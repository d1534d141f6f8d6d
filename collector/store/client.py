"""The one place an Elasticsearch client is made, for the collector and the simulator alike.

rtcsim speaks to Elasticsearch 7.17, 8.x and 9.x with one client: the official ``elasticsearch``
9.x package. That client marks every request ``Accept: application/vnd.elasticsearch+json;
compatible-with=9`` (and the same for ``Content-Type``), which an 8.x server refuses with
``media_type_header_exception`` ("Accept version must be either version 8 or 7"). Elasticsearch's
REST API compatibility lets a server answer requests made for its own major or the one before
(Elasticsearch docs, "REST API compatibility"), so the client here asks each server for the
API of the server's own major: ``compatible-with=7`` on 7.17, ``8`` on 8.x, ``9`` on 9.x. The
header is set by a node class (``node_class`` is the client's public hook for the HTTP layer),
because the client builds it from a module constant and every API method passes its own.

Why not the side-by-side packages ``elasticsearch7`` and ``elasticsearch8``: they are three
clients with three exception hierarchies and, for 7.x, a different call style (``body=``), so
every reader (checks, export, report, from-session) would need one code path per major. Every
call rtcsim makes (``_bulk``, ``_search`` with ``search_after`` and a point in time, ``_pit``,
``_count``, ``_refresh``, ``_cluster/health``, composable ``_index_template``) exists with the
same request and answer from 7.17 on (point in time since 7.10, composable templates since 7.8),
so one client and one set of calls serves the three majors.

Which major a server has is asked once, at connection, with plain ``application/json`` (which
every version accepts): ``GET /`` answers ``version.number``. A version outside 7.17, 8.x, 9.x
is refused there, by name (``UnsupportedVersionError``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

import elastic_transport
from elastic_transport import AiohttpHttpNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType
from elasticsearch import AsyncElasticsearch, AuthenticationException, AuthorizationException

from collector.store.base import StoreError

SUPPORTED = "7.17, 8.x and 9.x"
OLDEST_SUPPORTED = (7, 17)
NEWEST_MAJOR = 9
TESTED_VERSIONS = ("7.17.29", "8.19.21", "9.5.0")
"""The newest integ-test-zip of each major on Maven Central that the suite runs against."""

_COMPAT = re.compile(r"application/vnd\.elasticsearch\+([\w-]+); ?compatible-with=\d+")


class UnsupportedVersionError(StoreError):
    """The server is an Elasticsearch version rtcsim does not write to."""


@dataclass(frozen=True, order=True)
class ServerVersion:
    """An Elasticsearch version: ``7.17.29``, ``8.19.21``, ``9.5.0``."""

    major: int
    minor: int
    patch: int = 0
    number: str = field(default="", compare=False)

    @classmethod
    def parse(cls, number: str) -> ServerVersion:
        """``"8.19.21"`` (a suffix like ``-SNAPSHOT`` is kept in ``number``); else ValueError."""
        m = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?([-+.\w]*)", number.strip())
        if m is None:
            raise ValueError(f"{number!r} is not an Elasticsearch version (like 8.19.21)")
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), number.strip())

    @property
    def supported(self) -> bool:
        return (self.major, self.minor) >= OLDEST_SUPPORTED and self.major <= NEWEST_MAJOR

    def require_supported(self, where: str = "") -> ServerVersion:
        """Itself, or ``UnsupportedVersionError`` naming the version (and where it runs)."""
        if not self.supported:
            at = f" at {where}" if where else ""
            raise UnsupportedVersionError(
                f"Elasticsearch {self.number or f'{self.major}.{self.minor}'}{at} is not "
                f"supported: rtcsim writes to Elasticsearch {SUPPORTED}"
            )
        return self

    def __str__(self) -> str:
        return self.number or f"{self.major}.{self.minor}.{self.patch}"


class _CompatNode(AiohttpHttpNode):
    """The default async node, with the client's ``compatible-with=9`` set to ``COMPAT``.

    ``COMPAT = 0`` sends plain ``application/json`` (and ``x-ndjson``): used for the one
    request that learns the server's version, before its major is known.
    """

    COMPAT: ClassVar[int] = 0

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        if headers is not None:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                value = headers.get(name)
                if value is not None:
                    headers[name] = _COMPAT.sub(self._mimetype, value)
        return await super().perform_request(method, target, body, headers, request_timeout)

    def _mimetype(self, m: re.Match[str]) -> str:
        if not self.COMPAT:
            return f"application/{m.group(1)}"
        return f"application/vnd.elasticsearch+{m.group(1)}; compatible-with={self.COMPAT}"


class _PlainNode(_CompatNode):
    COMPAT = 0


class _Compat7Node(_CompatNode):
    COMPAT = 7


class _Compat8Node(_CompatNode):
    COMPAT = 8


class _Compat9Node(_CompatNode):
    COMPAT = 9


_NODE_CLASSES: dict[int, type[_CompatNode]] = {
    0: _PlainNode,
    7: _Compat7Node,
    8: _Compat8Node,
    9: _Compat9Node,
}


@dataclass(frozen=True)
class ClientOptions:
    """Where the cluster is and how to reach it: every node's URL, credentials, TLS, timeouts.

    ``hosts`` lists every node the client may use: a request to a node that does not answer is
    retried on the next one (``max_retries``), so a cluster keeps being written to while one
    of its nodes is down. With ``https`` URLs certificates are always verified, against
    ``ca_certs`` when given (else the system's CAs).
    """

    hosts: tuple[str, ...]
    """Every node's URL; a request that fails on one is retried on the next, at least once
    per other node whatever ``max_retries`` says."""
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    request_timeout_s: float = 30.0
    max_retries: int = 3
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Further keyword arguments for ``AsyncElasticsearch`` (serializers, say)."""

    def __post_init__(self) -> None:
        if not self.hosts:
            raise ValueError("Elasticsearch: no host given")

    @property
    def where(self) -> str:
        return ", ".join(self.hosts)

    def kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "request_timeout": self.request_timeout_s,
            "max_retries": max(self.max_retries, len(self.hosts) - 1),
            # A node that times out is tried again only if there is another one to try.
            "retry_on_timeout": len(self.hosts) > 1,
            **self.extra,
        }
        if self.user is not None:
            kwargs["basic_auth"] = (self.user, self.password or "")
        if self.api_key is not None:
            kwargs["api_key"] = self.api_key
        if any(h.startswith("https:") for h in self.hosts):
            kwargs["verify_certs"] = True
            if self.ca_certs is not None:
                kwargs["ca_certs"] = self.ca_certs
        return kwargs


def make_client(options: ClientOptions, major: int) -> AsyncElasticsearch:
    """A client that speaks the API of Elasticsearch ``major`` (7, 8 or 9; 0: plain JSON)."""
    try:
        node_class = _NODE_CLASSES[major]
    except KeyError:
        raise UnsupportedVersionError(
            f"no client for Elasticsearch {major}.x: rtcsim writes to Elasticsearch {SUPPORTED}"
        ) from None
    return AsyncElasticsearch(list(options.hosts), node_class=node_class, **options.kwargs())


def _reason(exc: elastic_transport.ApiError) -> str:
    """Elasticsearch's own reason, from its error body (``error.reason``)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", {})
    return str(error.get("reason", exc.message) if isinstance(error, dict) else error)


def _describe(exc: Exception) -> str:
    """A transport error with its cause (``TLS error`` alone does not say which check failed)."""
    if isinstance(exc, elastic_transport.TransportError) and exc.message:
        return f"{type(exc).__name__}: {exc.message}"
    return str(exc)


def _errors() -> tuple[type[Exception], ...]:
    return (elastic_transport.TransportError, elastic_transport.ApiError)


_PROBING: ContextVar[bool] = ContextVar("rtcsim_es_probing", default=False)


class _ProbeNoise(logging.Filter):
    """Drops the node pool's lines while the version is asked.

    The transport takes any answer outside 2xx and a few 4xx for a failing node, so the
    minimal distribution's 405 to ``GET /`` logs "has failed for 1 times in a row, putting on
    1 second timeout" at every connection, and "marked alive" right after: a warning about
    nothing, on every capacity step and every reader. Only the probe's own lines (this task's
    context) are dropped; a node failing for another request is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _PROBING.get()


logging.getLogger("elastic_transport.node_pool").addFilter(_ProbeNoise())


async def server_version(options: ClientOptions) -> ServerVersion:
    """The version the cluster runs; ``StoreError`` when it cannot be asked.

    ``GET /`` answers it on a full distribution with no privilege needed; the minimal
    distribution (the integ-test-zip rtcsim installs, 8.x on) refuses ``GET /`` with 405, so
    then every node's version comes from ``GET /_nodes`` and the oldest one counts (in a
    cluster being upgraded, a node of the older major refuses the newer major's header).
    """
    client = make_client(options, 0)
    probing = _PROBING.set(True)
    try:
        try:
            info = await client.info()
            numbers = [str(info.get("version", {}).get("number", ""))]
        except elastic_transport.ApiError as exc:
            if exc.meta.status not in (404, 405):
                raise
            nodes = await client.nodes.info(filter_path="nodes.*.version")
            numbers = [str(n.get("version", "")) for n in nodes.get("nodes", {}).values()]
    except (AuthenticationException, AuthorizationException) as exc:
        raise StoreError(
            f"Elasticsearch at {options.where} refused rtcsim's credentials "
            f"(HTTP {exc.meta.status}: {_reason(exc)}); check es_user/es_password or es_api_key"
        ) from exc
    except _errors() as exc:
        raise StoreError(f"Elasticsearch unreachable at {options.where}: {_describe(exc)}") from exc
    finally:
        _PROBING.reset(probing)
        await client.close()
    try:
        return min(ServerVersion.parse(number) for number in numbers or [""])
    except ValueError as exc:
        raise StoreError(f"Elasticsearch at {options.where}: {exc}") from exc


@dataclass
class Connection:
    """A client for one cluster and the version that cluster runs."""

    client: AsyncElasticsearch
    version: ServerVersion


async def connect(options: ClientOptions) -> Connection:
    """Ask the cluster its version, refuse an unsupported one, and return a client for it."""
    version = (await server_version(options)).require_supported(options.where)
    return Connection(make_client(options, version.major), version)


@asynccontextmanager
async def open_client(options: ClientOptions) -> AsyncIterator[AsyncElasticsearch]:
    """``async with open_client(options) as es:`` a connected client, closed on the way out."""
    connection = await connect(options)
    try:
        yield connection.client
    finally:
        await connection.client.close()
