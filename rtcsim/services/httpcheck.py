"""Tiny blocking HTTP GETs for health checks, optionally made from inside a network namespace.

Health checks run in synchronous start-up code, so they use ``urllib`` rather than an event loop.
Proxies from the environment are ignored: every service we check is local, and an
``http_proxy`` variable would otherwise send ``127.0.0.1`` requests to the proxy.

A socket belongs to the namespace of the thread that created it, so a check "from the client
namespace" runs in a short-lived thread that enters the namespace, opens the connection and
leaves; the caller's thread never changes namespace.
"""

from __future__ import annotations

import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field

from collector.netns import entered_netns

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class HttpAnswer:
    """What a server answered, or why nothing answered (``status`` 0 and ``error`` set)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names are case-insensitive (RFC 9110 §5.1); Elasticsearch sends lower case."""
    return {name.lower(): value for name, value in items}


def http_get(
    url: str,
    *,
    timeout_s: float = 2.0,
    headers: dict[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> HttpAnswer:
    """GET ``url``; HTTP errors are answers too, connection failures come back as ``error``.

    ``headers`` (an ``Authorization``, say) go with the request; ``ssl_context`` verifies an
    ``https`` server (against rtcsim's own CA, say).
    """
    opener = _OPENER
    if ssl_context is not None:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ssl_context)
        )
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout_s) as reply:
            return HttpAnswer(reply.status, _lower(reply.headers.items()), reply.read())
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, _lower(exc.headers.items()), exc.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return HttpAnswer(0, error=str(reason))


def http_get_in_netns(netns: str | None, url: str, *, timeout_s: float = 2.0) -> HttpAnswer:
    """GET ``url`` from inside network namespace ``netns`` (``None``: from here)."""
    if netns is None:
        return http_get(url, timeout_s=timeout_s)
    answers: list[HttpAnswer] = []

    def worker() -> None:
        try:
            with entered_netns(netns):
                answers.append(http_get(url, timeout_s=timeout_s))
        except Exception as exc:  # a missing namespace is an answer, not a crash
            answers.append(HttpAnswer(0, error=str(exc)))

    thread = threading.Thread(target=worker, name=f"http-check-{netns}", daemon=True)
    thread.start()
    thread.join(timeout_s + 5.0)
    return answers[0] if answers else HttpAnswer(0, error="check thread did not finish")
