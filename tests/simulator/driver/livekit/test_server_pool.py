"""A run's LiveKit connection holds every participant's signalling WebSocket on one aiohttp
session: its pool must not be capped (aiohttp's default of 100 made the 101st join of benchmark
1 on LiveKit wait forever)."""

from pathlib import Path

from simulator.driver.livekit.keys import ensure_credentials
from simulator.driver.livekit.server import LiveKitDriver


async def test_the_session_every_participant_signals_on_has_no_pool_limit(tmp_path: Path) -> None:
    ensure_credentials(tmp_path)
    driver = LiveKitDriver("ws://198.18.0.1:7880", "http://198.18.0.1:7880", tmp_path)
    server = await driver.connect()
    try:
        assert server.http.connector is not None
        assert server.http.connector.limit == 0
    finally:
        await server.http.close()
