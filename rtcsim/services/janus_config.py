"""Janus's configuration for rtcsim, generated from Debian's packaged files.

``/etc/janus`` is never touched: its ``*.jcfg`` files are copied to ``<state_dir>/janus/conf``
and only the files rtcsim needs to change are parsed and rewritten. The changes, and why each
one is there, follow ``reference/janus-aiortc.md`` §1–2:

* Janus listens only on the SFU namespace's veth address (API) and its loopback (Admin API),
  gathers ICE candidates only on the veth, and asks no STUN server: nothing leaves the box.
* Only the VideoRoom plugin, the HTTP transport and the sample event handler are loaded: fewer
  listening sockets, faster start, and no sample rooms or streams that would show up in the
  collector's documents.
* The event handler posts every event, grouped as JSON arrays, to the collector on 127.0.0.1
  inside the SFU namespace, once per second for media stats.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rtcsim.services import jcfg
from rtcsim.services.errors import JanusError
from simulator.settings import Settings

DEBIAN_CONF_DIR = Path("/etc/janus")
JANUS_LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")
SERVER_NAME = "rtcsim"  # the "emitter" field of every event-handler event

KEEP_PLUGINS = frozenset({"libjanus_videoroom.so"})
KEEP_TRANSPORTS = frozenset({"libjanus_http.so"})
KEEP_EVENT_HANDLERS = frozenset({"libjanus_sampleevh.so"})
KEEP_LOGGERS: frozenset[str] = frozenset()

# What Debian's janus 1.1.2 ships; used only when the module folder cannot be listed.
KNOWN_MODULES = {
    "plugins": [
        "libjanus_audiobridge.so",
        "libjanus_duktape.so",
        "libjanus_echotest.so",
        "libjanus_lua.so",
        "libjanus_nosip.so",
        "libjanus_recordplay.so",
        "libjanus_sip.so",
        "libjanus_streaming.so",
        "libjanus_textroom.so",
        "libjanus_videocall.so",
        "libjanus_videoroom.so",
        "libjanus_voicemail.so",
    ],
    "transports": [
        "libjanus_http.so",
        "libjanus_mqtt.so",
        "libjanus_nanomsg.so",
        "libjanus_pfunix.so",
        "libjanus_rabbitmq.so",
        "libjanus_websockets.so",
    ],
    "events": [
        "libjanus_gelfevh.so",
        "libjanus_mqttevh.so",
        "libjanus_nanomsgevh.so",
        "libjanus_rabbitmqevh.so",
        "libjanus_sampleevh.so",
        "libjanus_wsevh.so",
    ],
    "loggers": ["libjanus_jsonlog.so"],
}

# Keys that would make Janus talk to the outside world or listen elsewhere.
NAT_KEYS_TO_DROP = (
    "stun_server",
    "stun_port",
    "turn_server",
    "turn_port",
    "turn_type",
    "turn_user",
    "turn_pwd",
    "turn_rest_api",
    "turn_rest_api_key",
    "turn_rest_api_method",
    "nat_1_1_mapping",
    "ice_ignore_list",
)

# sampleevh retries a POST it could not deliver (connection refused, timeout; not an HTTP error)
# after backoff * 2^n ms: 100+200+...+3200 = 6.3 s, so a collector restarted within ~6 s loses no
# event (its journal then rebuilds the sessions). Events queue behind the one being retried.
EVENT_RETRANSMISSIONS = 6
EVENT_RETRANSMISSION_BACKOFF_MS = 100


@dataclass(frozen=True)
class JanusConfig:
    """Where the generated configuration lives."""

    conf_dir: Path
    recordings_dir: Path

    @property
    def main_file(self) -> Path:
        return self.conf_dir / "janus.jcfg"


def _modules(folder: Path, kind: str) -> list[str]:
    try:
        found = sorted(p.name for p in folder.glob("*.so"))
    except OSError:
        found = []
    return found or list(KNOWN_MODULES[kind])


def _disable(folder: Path, kind: str, keep: frozenset[str]) -> str:
    return ",".join(name for name in _modules(folder, kind) if name not in keep)


def _group(config: jcfg.Group, name: str) -> jcfg.Group:
    group = config.setdefault(name, {})
    if not isinstance(group, dict):
        raise JanusError(f"'{name}' in the Janus configuration is not a group")
    return group


def _folder(general: jcfg.Group, key: str, default: Path) -> Path:
    value = general.get(key)
    return Path(value) if isinstance(value, str) else default


def core_config(base: jcfg.Group, settings: Settings, conf_dir: Path) -> jcfg.Group:
    """``janus.jcfg``: interface, ICE, ports, and which modules load."""
    general = _group(base, "general")
    general["configs_folder"] = str(conf_dir)
    general["server_name"] = SERVER_NAME
    general["interface"] = settings.sfu_address
    general["session_timeout"] = settings.janus_session_timeout_s
    general["admin_secret"] = settings.janus_admin_secret
    general["debug_timestamps"] = True
    media = _group(base, "media")
    media["rtp_port_range"] = settings.janus_rtp_port_range
    nat = _group(base, "nat")
    for key in NAT_KEYS_TO_DROP:
        nat.pop(key, None)
    nat["ice_enforce_list"] = settings.sfu_veth
    nat["ignore_mdns"] = True
    nat["nice_debug"] = False
    nat["ice_keepalive_conncheck"] = True
    folders = {
        "plugins": _folder(general, "plugins_folder", JANUS_LIB_DIR / "plugins"),
        "transports": _folder(general, "transports_folder", JANUS_LIB_DIR / "transports"),
        "events": _folder(general, "events_folder", JANUS_LIB_DIR / "events"),
        "loggers": _folder(general, "loggers_folder", JANUS_LIB_DIR / "loggers"),
    }
    _group(base, "plugins")["disable"] = _disable(folders["plugins"], "plugins", KEEP_PLUGINS)
    _group(base, "transports")["disable"] = _disable(
        folders["transports"], "transports", KEEP_TRANSPORTS
    )
    _group(base, "loggers")["disable"] = _disable(folders["loggers"], "loggers", KEEP_LOGGERS)
    events = _group(base, "events")
    events["broadcast"] = True  # event handlers stay silent without it (or -e)
    events["disable"] = _disable(folders["events"], "events", KEEP_EVENT_HANDLERS)
    events["stats_period"] = 1  # seconds between media-stats events per handle and m-line
    return base


def http_transport_config(base: jcfg.Group, settings: Settings) -> jcfg.Group:
    """``janus.transport.http.jcfg``: API on the veth address, Admin API on the ns loopback."""
    general = _group(base, "general")
    general.pop("interface", None)  # an interface name would override ip=
    general.update(
        json="plain",
        base_path="/janus",
        http=True,
        port=settings.janus_http_port,
        ip=settings.sfu_address,
        https=False,
    )
    admin = _group(base, "admin")
    admin.pop("admin_interface", None)
    admin.update(
        admin_base_path="/admin",
        admin_http=True,
        admin_port=settings.janus_admin_port,
        admin_ip="127.0.0.1",
        admin_https=False,
    )
    return base


def videoroom_config(base: jcfg.Group) -> jcfg.Group:
    """``janus.plugin.videoroom.jcfg``: string room ids, and none of Debian's sample rooms."""
    general = _group(base, "general")
    general["string_ids"] = True  # OpenVidu session ids are names, not numbers
    return {"general": general}


def event_handler_config(base: jcfg.Group, settings: Settings) -> jcfg.Group:
    """``janus.eventhandler.sampleevh.jcfg``: everything, grouped, to the collector."""
    general = _group(base, "general")
    general.update(
        enabled=True,
        events="all",
        grouping=True,
        json="plain",
        backend=f"http://127.0.0.1:{settings.collector_events_port}/events",
        backend_user=settings.collector_events_user,
        backend_pwd=settings.collector_events_password,
        max_retransmissions=EVENT_RETRANSMISSIONS,
        retransmissions_backoff=EVENT_RETRANSMISSION_BACKOFF_MS,
    )
    return base


HEADER = "Generated by rtcsim (rtcsim/services/janus_config.py) from {source}; do not edit."


def write_config(
    settings: Settings,
    conf_dir: Path,
    recordings_dir: Path,
    *,
    source_dir: Path = DEBIAN_CONF_DIR,
) -> JanusConfig:
    """Copy ``source_dir/*.jcfg`` to ``conf_dir`` and rewrite the four files rtcsim changes.

    Earlier generated files are removed first, so a file Debian dropped cannot linger.
    """
    sources = sorted(source_dir.glob("*.jcfg"))
    if not (source_dir / "janus.jcfg").is_file():
        raise JanusError(
            f"no janus.jcfg in {source_dir}",
            hint="reinstall the janus package (make setup) to restore its configuration files",
        )
    conf_dir.mkdir(parents=True, exist_ok=True)
    recordings_dir.mkdir(parents=True, exist_ok=True)
    for old in conf_dir.glob("*.jcfg"):
        old.unlink()
    for src in sources:
        shutil.copyfile(src, conf_dir / src.name)

    def rewrite(name: str, build: jcfg.Group) -> None:
        jcfg.dump(build, conf_dir / name, header=HEADER.format(source=source_dir / name))

    def read(name: str) -> jcfg.Group:
        path = source_dir / name
        if not path.exists():
            return {}
        try:
            return jcfg.load(path)
        except jcfg.JcfgSyntaxError as exc:
            raise JanusError(f"cannot read Debian's Janus configuration: {exc}") from exc

    rewrite("janus.jcfg", core_config(read("janus.jcfg"), settings, conf_dir))
    rewrite(
        "janus.transport.http.jcfg",
        http_transport_config(read("janus.transport.http.jcfg"), settings),
    )
    rewrite("janus.plugin.videoroom.jcfg", videoroom_config(read("janus.plugin.videoroom.jcfg")))
    rewrite(
        "janus.eventhandler.sampleevh.jcfg",
        event_handler_config(read("janus.eventhandler.sampleevh.jcfg"), settings),
    )
    return JanusConfig(conf_dir=conf_dir, recordings_dir=recordings_dir)
