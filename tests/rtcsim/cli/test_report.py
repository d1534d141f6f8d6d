"""``rtcsim report`` times, and the Kibana import's handling of Kibana's answer."""

from __future__ import annotations

import pytest
import typer
from aiohttp import web

from rtcsim.cli.report import parse_time
from rtcsim.report.kibana import import_objects, objects_file, parse_result


def test_times_are_ms_or_iso_dates_in_utc() -> None:
    assert parse_time("1795886321798") == 1795886321798
    assert parse_time("1970-01-02") == 86_400_000
    assert parse_time("1970-01-01T01:00:00+01:00") == 0
    with pytest.raises(typer.BadParameter):
        parse_time("yesterday")


def test_import_errors_are_listed_by_object() -> None:
    result = parse_result(
        {
            "success": False,
            "successCount": 2,
            "errors": [
                {"type": "visualization", "id": "x", "error": {"type": "missing_references"}}
            ],
        }
    )
    assert (result.success, result.success_count) == (False, 2)
    assert result.errors == ("visualization/x: missing_references",)


async def test_import_posts_the_file_of_kibanas_major_with_kbn_xsrf(
    unused_tcp_port: int,
) -> None:
    seen: dict[str, str] = {}

    async def status(_request: web.Request) -> web.Response:
        return web.json_response({"version": {"number": "9.1.0"}})

    async def import_(request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        seen.update(
            xsrf=request.headers.get("kbn-xsrf", ""),
            overwrite=request.query.get("overwrite", ""),
            name=upload.filename,
            auth=request.headers.get("Authorization", ""),
        )
        return web.json_response({"success": True, "successCount": 26, "errors": []})

    app = web.Application()
    app.router.add_get("/api/status", status)
    app.router.add_post("/api/saved_objects/_import", import_)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        path, result = await import_objects(
            f"http://127.0.0.1:{unused_tcp_port}", user="elastic", password="changeme"
        )
    finally:
        await runner.cleanup()
    assert path == objects_file(9)
    assert result.success
    assert result.success_count == 26
    assert seen["xsrf"]
    assert seen["overwrite"] == "true"
    assert seen["name"] == "openvidu-9.ndjson"
    assert seen["auth"].startswith("Basic ")
