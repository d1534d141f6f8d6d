"""The one settings object of rtcsim.

Precedence: CLI flags > environment (``RTCSIM_*``) > ``rtcsim.toml`` in the working folder >
defaults. Validated once at the edge; inner code receives typed values, never raw strings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from collector.store.client import ClientOptions, ServerVersion, UnsupportedVersionError

ServerName = Literal["janus", "livekit"]
SERVERS: tuple[str, ...] = get_args(ServerName)
"""The media servers rtcsim drives (``simulator.driver.servers``)."""
Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP or UDP port number: 1..65535 (0 would ask the kernel for any port, which a service
another process must reach cannot use)."""
OptionalPort = Annotated[int, Field(ge=0, le=65535)]
"""A port where 0 means off."""


def _under_working_folder(name: str) -> Callable[[], Path]:
    """A default folder under the working folder at the time the settings are read (where
    ``rtcsim.toml`` is read from too), wherever the package is installed."""
    return lambda: Path.cwd() / name


class Settings(BaseSettings):
    """Where things live and how the services are reached."""

    model_config = SettingsConfigDict(
        env_prefix="RTCSIM_", toml_file="rtcsim.toml", extra="forbid", frozen=True
    )

    # -- folders -------------------------------------------------------------------------------
    state_dir: Path = Field(
        default_factory=_under_working_folder(".run"),
        description="pid files, logs, generated Janus config, Elasticsearch data",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "rtcsim",
        description="downloads kept across clones (the Elasticsearch zip, unpacked)",
    )
    results_dir: Path = Field(
        default_factory=_under_working_folder("results"), description="one folder per run"
    )

    # -- the media server --------------------------------------------------------------------
    server: ServerName = Field(
        default="janus",
        description="the media server runs play against and `services up` starts: "
        + ", ".join(SERVERS),
    )

    # -- network namespaces (Janus refuses loopback ICE; see docs/architecture.md) ------------
    sfu_netns: str = "rtcsim-sfu"
    client_netns: str = "rtcsim-cli"
    sfu_veth: str = "rtcsim-sfu0"
    client_veth: str = "rtcsim-cli0"
    sfu_address: str = "198.18.0.1"
    client_address: str = "198.18.0.2"
    netns_prefix_len: int = 24

    # -- Janus ---------------------------------------------------------------------------------
    janus_http_port: Port = 8088
    janus_admin_port: Port = 7088
    janus_admin_secret: str = "rtcsim-admin"
    janus_rtp_port_range: str = "20000-40000"
    janus_session_timeout_s: int = Field(
        default=60,
        description=(
            "how soon Janus ends a session that sends nothing (Janus's default; janus.js over "
            "HTTP long-polls for 30 s and sends no keepalives)"
        ),
    )

    # -- LiveKit (the second media server, issue 17) -------------------------------------------
    livekit_version: str = Field(
        default="v1.13.5",
        description="built once with `go install` into <cache_dir>/livekit/<version> (later "
        "versions replace pion with forks the Go module proxy does not serve)",
    )
    livekit_port: Port = Field(
        default=7880, description="signalling WebSocket (/rtc) and RoomService, on sfu_address"
    )
    livekit_rtc_port_range: str = Field(
        default="50000-59999", description="UDP ports LiveKit's peer connections use (ICE)"
    )
    livekit_prometheus_port: OptionalPort = Field(
        default=6789, description="LiveKit's Prometheus /metrics on sfu_address; 0: off"
    )
    livekit_webhook_url: str | None = Field(
        default=None,
        description="where LiveKit posts its webhooks, as seen from the SFU namespace; "
        "default: the collector's events port there (/livekit)",
    )
    livekit_departure_timeout_s: int = Field(
        default=1,
        description="how long LiveKit keeps a room after its last participant left "
        "(LiveKit's default is 20; OpenVidu closes the session at once)",
    )
    livekit_empty_timeout_s: int = Field(
        default=30, description="how long LiveKit keeps a room nobody ever joined"
    )
    livekit_congestion_control: bool = Field(
        default=True,
        description="LiveKit's downstream congestion control (its default); benchmark 1 turns "
        "it off: its counting receivers send no REMB, so LiveKit's estimate could only fall",
    )

    # -- collector -----------------------------------------------------------------------------
    collector_events_port: Port = Field(
        default=8090, description="Janus event handler posts here (127.0.0.1 in the SFU namespace)"
    )
    collector_api_host: str = "127.0.0.1"
    collector_api_port: Port = Field(default=8091, description="identity, client stats, health")
    collector_token: str = "rtcsim-dev-token"
    collector_events_user: str = "janus"
    collector_events_password: str = "rtcsim-dev-events"
    webrtc_stats_interval_s: float = 30.0
    monitoring_interval_s: float = 10.0

    # -- Elasticsearch -------------------------------------------------------------------------
    es_version: str = Field(
        default="9.5.0", description="the Elasticsearch rtcsim installs and runs: 7.17.x, 8.x, 9.x"
    )
    es_host: str = "127.0.0.1"
    es_port: Port = 9200
    es_cluster_ports: list[Port] = Field(
        default_factory=list,
        description="HTTP ports of more nodes rtcsim starts beside es_port: a cluster of "
        "1 + len(es_cluster_ports) nodes (transport port = HTTP port + 100)",
    )
    es_hosts: list[str] = Field(
        default_factory=list,
        description="an existing cluster's node URLs: rtcsim then starts no Elasticsearch and "
        "the collector and readers use these (empty: rtcsim's own node(s) on es_host)",
    )
    es_heap_mb: int = 512
    es_index: str = "openvidu"
    es_scheme: Literal["http", "https"] = Field(
        default="http", description="https: certificates are always verified (see es_ca_certs)"
    )
    es_user: str | None = Field(default=None, description="basic auth user for Elasticsearch")
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = Field(default=None, description="instead of user/password")
    es_ca_certs: Path | None = Field(
        default=None, description="CA bundle that signed Elasticsearch's certificate (https)"
    )
    es_security: bool = Field(
        default=False,
        description="rtcsim's own node(s) with X-Pack security: TLS (a CA rtcsim makes, used "
        "unless es_ca_certs names another) and the file-realm user es_user/es_password; "
        "needs es_scheme https",
    )
    es_os_user: str = Field(default="rtcsim", description="Elasticsearch refuses to run as root")
    es_dir: Path | None = Field(
        default=None,
        description=(
            "the node's home copy, data and logs; default /var/lib/rtcsim/elasticsearch-<port>, "
            "a place the Elasticsearch user can always reach (a clone under /root is not)"
        ),
    )

    @field_validator("livekit_rtc_port_range", "janus_rtp_port_range")
    @classmethod
    def _port_range(cls, value: str) -> str:
        """``START-END`` with 1024 <= START <= END <= 65535 (Janus's rtp_port_range, LiveKit's
        rtc.port_range_*)."""
        start, _, end = value.partition("-")
        if not (start.isdigit() and end.isdigit() and 1024 <= int(start) <= int(end) <= 65535):
            raise ValueError(f"{value!r} is not a port range START-END within 1024-65535")
        return value

    @property
    def livekit_rtc_ports(self) -> tuple[int, int]:
        start, _, end = self.livekit_rtc_port_range.partition("-")
        return int(start), int(end)

    @field_validator("es_version")
    @classmethod
    def _supported_es_version(cls, value: str) -> str:
        try:
            ServerVersion.parse(value).require_supported()
        except (ValueError, UnsupportedVersionError) as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _security_needs_https_and_a_user(self) -> Settings:
        if self.es_security and self.es_scheme != "https":
            raise ValueError("es_security needs es_scheme = https (TLS on HTTP)")
        if self.es_security and (self.es_user is None or self.es_password is None):
            raise ValueError("es_security needs es_user and es_password (the user rtcsim adds)")
        return self

    def es_node_dir(self, port: int) -> Path:
        """The folder of rtcsim's node on HTTP ``port``: home copy, data, logs.

        Not under the project's state dir: Elasticsearch runs as its own user, who may not be
        able to reach a checkout (CI may clone under /root, mode 0700). ``es_dir`` names the
        first node's folder; the others sit beside it, named by their port.
        """
        if self.es_dir is None:
            return Path("/var/lib/rtcsim") / f"elasticsearch-{port}"
        if port == self.es_port:
            return self.es_dir
        return self.es_dir.with_name(f"{self.es_dir.name}-{port}")

    @property
    def es_ca_file(self) -> Path | None:
        """The CA the clients verify Elasticsearch's certificate with: ``es_ca_certs``, or the
        one rtcsim made for its own secured node(s)."""
        if self.es_ca_certs is not None:
            return self.es_ca_certs
        if self.es_security and not self.es_hosts:
            return self.es_node_dir(self.es_port) / "certs" / "ca.crt"
        return None

    @property
    def es_urls(self) -> list[str]:
        """Every node the collector and the readers may use."""
        if self.es_hosts:
            return list(self.es_hosts)
        ports = [self.es_port, *self.es_cluster_ports]
        return [f"{self.es_scheme}://{self.es_host}:{port}" for port in ports]

    @property
    def es_url(self) -> str:
        """The first node: the one health checks and messages name."""
        return self.es_urls[0]

    def es_client_options(
        self, *, request_timeout_s: float = 30.0, max_retries: int = 3
    ) -> ClientOptions:
        """Hosts, credentials and TLS for every Elasticsearch client the simulator creates
        (``collector.store.client.open_client``)."""
        return ClientOptions(
            tuple(self.es_urls),
            user=self.es_user,
            password=self.es_password.get_secret_value() if self.es_password else None,
            api_key=self.es_api_key.get_secret_value() if self.es_api_key else None,
            ca_certs=str(self.es_ca_file) if self.es_ca_file else None,
            request_timeout_s=request_timeout_s,
            max_retries=max_retries,
        )

    @property
    def janus_url(self) -> str:
        """Janus HTTP API as seen from the client namespace."""
        return f"http://{self.sfu_address}:{self.janus_http_port}/janus"

    @property
    def livekit_url(self) -> str:
        """LiveKit's signalling WebSocket base as seen from the client namespace."""
        return f"ws://{self.sfu_address}:{self.livekit_port}"

    @property
    def livekit_http_url(self) -> str:
        """LiveKit's HTTP base (health check, RoomService Twirp) from the client namespace."""
        return f"http://{self.sfu_address}:{self.livekit_port}"

    @property
    def livekit_webhook_target(self) -> str:
        """Where LiveKit posts webhooks: the setting, or the collector inside the SFU namespace."""
        if self.livekit_webhook_url is not None:
            return self.livekit_webhook_url
        return f"http://127.0.0.1:{self.collector_events_port}/livekit"

    @property
    def drop_detection_s(self) -> float:
        """How long after a participant vanished Janus has surely let it go: its session times
        out ``janus_session_timeout_s`` after the last request it sent (one in flight at the
        drop may count: measured up to 62.5 s with 60), and Janus checks for timed-out sessions
        every 2 s (``janus.c``, ``janus_check_sessions``). ICE keepalive checks usually end its
        PeerConnections sooner (30 to 55 s, ``player.drops``)."""
        return self.janus_session_timeout_s + 4.0

    @property
    def collector_api_url(self) -> str:
        return f"http://{self.collector_api_host}:{self.collector_api_port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
