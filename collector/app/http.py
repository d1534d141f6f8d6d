"""JSON in and out of the routes: bodies read within ``max_body_bytes`` (413), invalid JSON
and invalid fields as 400 with where and what, answers as ``application/json``."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from collector.events.errors import describe

M = TypeVar("M", bound=BaseModel)


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def http_error(status: int, message: str) -> web.HTTPException:
    exc = web.HTTPException(text=orjson.dumps({"error": message}).decode())
    exc.set_status(status)
    exc.content_type = "application/json"
    return exc


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, refused with 413 past ``limit`` bytes (declared or streamed)."""
    if request.content_length is not None and request.content_length > limit:
        raise http_error(413, f"body of {request.content_length} bytes exceeds {limit}")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise http_error(413, f"body exceeds {limit} bytes") from None


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise http_error(400, f"invalid JSON: {exc}") from None


def validated(model: type[M], data: object) -> M:
    """``data`` as ``model``, or 400 naming each invalid field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise http_error(400, describe(exc)) from None
