"""The media servers rtcsim can drive, by name, and the driver of a run's settings.

``Settings.server`` names the one a run plays against (``rtcsim run --server``,
``RTCSIM_SERVER``); an unknown name is an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.driver.janus.server import JanusDriver
from simulator.driver.livekit.server import LiveKitDriver
from simulator.driver.protocol import Driver
from simulator.settings import SERVERS, Settings

_DRIVERS: dict[str, Callable[[Settings, str], Driver]] = {
    "janus": lambda settings, label: JanusDriver(
        settings.janus_url, admin_label=label, drop_detection_s=settings.drop_detection_s
    ),
    "livekit": lambda settings, label: LiveKitDriver(
        settings.livekit_url,
        settings.livekit_http_url,
        settings.state_dir,
        departure_timeout_s=settings.livekit_departure_timeout_s,
    ),
}
assert set(_DRIVERS) == set(SERVERS), "every server a setting may name has a driver"


def driver_for(
    settings: Settings, *, server: str | None = None, admin_label: str = "rtcsim:admin"
) -> Driver:
    """The driver of ``server`` (default: the settings' ``server``) at the settings' address;
    ``admin_label`` tags its admin connection (Janus: the admin handle's ``opaque_id``)."""
    name = server or settings.server
    try:
        make = _DRIVERS[name]
    except KeyError:
        known = ", ".join(sorted(_DRIVERS))
        raise ValueError(f"unknown media server {name!r}; known: {known}") from None
    return make(settings, admin_label)
