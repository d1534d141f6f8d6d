"""Importing the saved objects of ``kibana/`` into a Kibana (7.17, 8.x or 9.x).

Kibana's saved-objects import API takes the NDJSON as a multipart file, needs the ``kbn-xsrf``
header, and with ``overwrite=true`` replaces objects of the same id, so importing twice is safe
(Kibana docs, "Import objects API").
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from rtcsim.library import KIBANA_DIR

TIMEOUT_S = 30.0


class KibanaError(RuntimeError):
    """Kibana unreachable, refusing the request, or an unknown version."""


@dataclass(frozen=True)
class ImportResult:
    success: bool
    success_count: int
    errors: tuple[str, ...]


def objects_file(major: int) -> Path:
    path = KIBANA_DIR / f"openvidu-{major}.ndjson"
    if not path.is_file():
        known = sorted(p.name for p in KIBANA_DIR.glob("openvidu-*.ndjson"))
        raise KibanaError(f"no saved objects for Kibana {major}.x ({path}); known: {known}")
    return path


def _auth(user: str | None, password: str | None) -> dict[str, str]:
    """Basic auth as a header (aiohttp's ``BasicAuth`` helper is deprecated)."""
    if not user:
        return {}
    token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _base(url: str, space: str | None) -> str:
    return url.rstrip("/") + (f"/s/{space}" if space else "")


async def kibana_major(http: aiohttp.ClientSession, url: str) -> int:
    """The major version Kibana reports on ``/api/status``."""
    async with http.get(f"{url.rstrip('/')}/api/status") as response:
        if response.status != 200:
            raise KibanaError(f"GET /api/status: HTTP {response.status}")
        body: dict[str, Any] = await response.json()
    number = str(body.get("version", {}).get("number", ""))
    try:
        return int(number.split(".")[0])
    except ValueError as exc:
        raise KibanaError(f"Kibana reports no version ({body.get('version')!r})") from exc


def parse_result(body: dict[str, Any]) -> ImportResult:
    errors = tuple(
        f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type', e.get('error'))}"
        for e in body.get("errors", []) or []
    )
    return ImportResult(bool(body.get("success")), int(body.get("successCount", 0)), errors)


async def import_objects(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    major: int | None = None,
    path: Path | None = None,
    space: str | None = None,
) -> tuple[Path, ImportResult]:
    """POST the right NDJSON to ``/api/saved_objects/_import?overwrite=true``."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(headers=_auth(user, password), timeout=timeout) as http:
            if path is None:
                path = objects_file(major or await kibana_major(http, url))
            form = aiohttp.FormData()
            form.add_field(
                "file", path.read_bytes(), filename=path.name, content_type="application/ndjson"
            )
            async with http.post(
                f"{_base(url, space)}/api/saved_objects/_import",
                params={"overwrite": "true"},
                data=form,
                headers={"kbn-xsrf": "rtcsim"},
            ) as response:
                if response.status != 200:
                    text = await response.text()
                    raise KibanaError(f"import: HTTP {response.status}: {text[:500]}")
                body: dict[str, Any] = await response.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise KibanaError(f"Kibana unreachable at {url}: {exc}") from exc
    return path, parse_result(body)
