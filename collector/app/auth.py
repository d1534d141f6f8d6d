"""Who may post: Janus with HTTP basic auth (``events_user``), the simulator with a bearer
token (``token``); unset, a route is open (its socket is then only reachable on loopback or
inside the SFU namespace)."""

from __future__ import annotations

import base64
import hmac

from aiohttp import web

from collector.settings import CollectorSettings


def basic_auth_ok(request: web.Request, user: str, password: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header[6:]).decode()
    except ValueError:
        return False
    return hmac.compare_digest(given, f"{user}:{password}")


def janus_denied(settings: CollectorSettings, request: web.Request) -> str | None:
    """Why a Janus post is refused (401), or None: basic auth when ``events_user`` is set."""
    if settings.events_user is None:
        return None
    password = settings.events_password.get_secret_value() if settings.events_password else ""
    if basic_auth_ok(request, settings.events_user, password):
        return None
    return "missing or wrong basic auth"


def token_denied(settings: CollectorSettings, request: web.Request) -> str | None:
    """Why a simulator post is refused (401), or None: the bearer token when one is set."""
    token = settings.token
    if token is None:
        return None
    header = request.headers.get("Authorization", "")
    if hmac.compare_digest(header, f"Bearer {token.get_secret_value()}"):
        return None
    return "missing or wrong bearer token"
