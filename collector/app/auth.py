"""Who may post: Janus with HTTP basic auth (``events_user``), LiveKit with its webhook
signature (the stack's key pair, ``livekit_api_key``/``livekit_api_secret``), the simulator
with a bearer token (``token``); Janus's and the simulator's routes are open when unset (their
socket is then only reachable on loopback or inside the SFU namespace), LiveKit's never."""

from __future__ import annotations

import base64
import datetime
import hmac

from aiohttp import web
from livekit.api import TokenVerifier, WebhookReceiver

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


def janus_denied(settings: CollectorSettings, request: web.Request, body: bytes) -> str | None:
    """Why a Janus post is refused (401), or None: basic auth when ``events_user`` is set."""
    del body  # basic auth covers the request, not its body
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


def livekit_denied(settings: CollectorSettings, request: web.Request, body: bytes) -> str | None:
    """Why a LiveKit webhook is refused (401), or None.

    LiveKit puts a JWT in ``Authorization`` (bare, no ``Bearer``), HS256 with the key pair,
    whose ``sha256`` claim is the SHA-256 of the exact body; ``WebhookReceiver`` checks both
    (livekit-api ``webhook.py``). Basic auth in the URL, as Janus uses, cannot work: LiveKit
    sets ``Authorization`` itself."""
    key, secret = settings.livekit_api_key, settings.livekit_api_secret
    if key is None or secret is None:
        return "LiveKit webhooks are refused: no key pair (livekit_api_key, livekit_api_secret)"
    token = request.headers.get("Authorization", "")
    if not token:
        return "missing Authorization (LiveKit's signed webhook token)"
    leeway = datetime.timedelta(seconds=settings.livekit_webhook_leeway_s)
    receiver = WebhookReceiver(TokenVerifier(key, secret.get_secret_value(), leeway=leeway))
    try:
        receiver.receive(body.decode(), token)
    except Exception as exc:  # PyJWT's errors, "hash mismatch", a body that is no webhook
        return f"bad webhook signature: {exc}"
    return None
