"""Synthetic identities: who each participant pretends to be, the same for the same seed.

OpenVidu stores a user id (16 upper-case hex), a location and ``geoPoints`` from geolocation,
and a platform string from the browser. rtcsim makes them up with faker, seeded by the
scenario's seed and the participant's name, so two runs of one file produce the same people
(while connection ids still differ per run: they name Janus publishers).
"""

from __future__ import annotations

import functools
import hashlib
import random
import string
import threading
from dataclasses import dataclass

from faker import Faker

_BROWSERS = (
    ("Chrome", "{major}.0.{build}.{patch}"),
    ("Firefox", "{major}.0"),
    ("Safari", "{minor}.{patch_small}"),
)
_SYSTEMS = ("Linux 64-bit", "Windows 10 64-bit", "OS X 10.15.7 64-bit", "Android 13")


@dataclass(frozen=True)
class Identity:
    name: str
    user_id: str
    location: str
    geo_points: str
    platform: str
    client_data: str


def _rng(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256("|".join((str(seed), *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


_FAKER_LOCK = threading.Lock()


@functools.cache
def _faker() -> Faker:
    """One Faker, reseeded per identity: making one loads every provider (a load generator
    making several a second spent 3 % of its time there)."""
    return Faker()


def make_identity(seed: int, name: str) -> Identity:
    rng = _rng(seed, "identity", name)
    with _FAKER_LOCK:
        fake = _faker()
        fake.seed_instance(rng.getrandbits(32))
        lat, lon, place, country, _zone = fake.location_on_land()
    browser, version = rng.choice(_BROWSERS)
    platform = (
        f"{browser} "
        + version.format(
            major=rng.randint(100, 130),
            minor=rng.randint(14, 17),
            build=rng.randint(4000, 6999),
            patch=rng.randint(10, 250),
            patch_small=rng.randint(0, 6),
        )
        + f" on {rng.choice(_SYSTEMS)}"
    )
    return Identity(
        name=name,
        user_id=f"{rng.getrandbits(64):016X}",
        location=f"{place}, {country}",
        geo_points=f"{float(lat):.2f},{float(lon):.2f}",
        platform=platform,
        client_data=f'{{"name":"{name}"}}',
    )


def connection_id(run_id: str, name: str) -> str:
    """16 lower-case letters and digits, as OpenVidu's (``bahnv2b0n5fxbohy``); unique per run."""
    rng = _rng(0, "connection", run_id, name)
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(16))


def stream_id(connection: str, source: str, serial: int) -> str:
    """``<connectionId>_<SOURCE>_<5 letters>``, OpenVidu 2.11's stream id format."""
    rng = _rng(serial, "stream", connection)
    return f"{connection}_{source}_" + "".join(rng.choice(string.ascii_uppercase) for _ in range(5))
