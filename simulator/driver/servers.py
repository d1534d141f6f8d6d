"""The media servers rtcsim can drive, by name, and the driver of a run's settings.

Only Janus today; LiveKit joins with issue 17 (with a setting that names the server, which then
reaches ``driver_for``). An unknown name is an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.driver.janus.server import JanusDriver
from simulator.driver.protocol import Driver
from simulator.settings import Settings

DEFAULT_SERVER = "janus"
_DRIVERS: dict[str, Callable[[Settings, str], Driver]] = {
    "janus": lambda settings, label: JanusDriver(settings.janus_url, admin_label=label),
}


def driver_for(
    settings: Settings, *, server: str = DEFAULT_SERVER, admin_label: str = "rtcsim:admin"
) -> Driver:
    """The driver of ``server`` at the settings' address; ``admin_label`` tags its admin
    connection (Janus: the admin handle's ``opaque_id``)."""
    try:
        make = _DRIVERS[server]
    except KeyError:
        known = ", ".join(sorted(_DRIVERS))
        raise ValueError(f"unknown media server {server!r}; known: {known}") from None
    return make(settings, admin_label)
