"""The collector's one settings object.

Precedence: CLI flags > environment (``RTCSIM_COLLECTOR_*``) > defaults. Validated once here, at the
edge; the rest of the package receives typed values. The collector has its own settings class (not
``simulator.settings``) because it never imports the simulator.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CollectorSettings(BaseSettings):
    """Where the collector listens, where it writes, and how often it samples."""

    model_config = SettingsConfigDict(env_prefix="RTCSIM_COLLECTOR_", extra="forbid", frozen=True)

    # -- store -------------------------------------------------------------------------------------
    store: str = Field(default="elasticsearch", description="elasticsearch | memory")
    ndjson_path: Path | None = Field(default=None, description="memory store: mirror to this file")
    es_hosts: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:9200"])
    es_user: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_ca_certs: Path | None = None
    index: str = Field(default="openvidu", description="OpenVidu Pro writes every type here")

    # -- Janus event handler endpoint (inside the media server's namespace) ----------------------
    events_netns: str | None = Field(
        default=None, description="network namespace Janus lives in; None = root namespace"
    )
    events_host: str = "127.0.0.1"
    events_port: int = Field(default=8090, ge=0, le=65535)
    events_user: str | None = Field(default=None, description="HTTP basic auth sent by sampleevh")
    events_password: SecretStr | None = None

    # -- LiveKit webhooks (POST /livekit, signed with the stack's key pair) -----------------------
    livekit_api_key: str | None = Field(
        default=None, description="the key LiveKit signs its webhooks with; None refuses them"
    )
    livekit_api_secret: SecretStr | None = None
    livekit_webhook_leeway_s: float = Field(
        default=60.0, ge=0, description="clock skew allowed on a webhook's signed times"
    )

    # -- API for the simulator (root namespace) --------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8091, ge=0, le=65535)
    token: SecretStr | None = Field(
        default=None, description="Bearer token required on the simulator-facing routes"
    )

    # -- periodic documents ------------------------------------------------------------------------
    webrtc_stats_interval_s: float = Field(default=30.0, ge=0, description="0 disables")
    monitoring_interval_s: float = Field(default=10.0, ge=0, description="0 disables")
    janus_pid_file: Path | None = Field(default=None, description="for Janus CPU/RSS in monitoring")

    # -- limits and writer -------------------------------------------------------------------------
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    flush_interval_s: float = Field(default=0.5, gt=0)
    bulk_max_docs: int = Field(default=500, gt=0)
    write_retries: int = Field(default=5, ge=0)

    # -- durability (None: documents wait in memory only, no journal) -----------------------------
    state_dir: Path | None = Field(
        default=None, description="the collector's folder: journal.ndjson, spool/"
    )
    spool_dir: Path | None = Field(
        default=None, description="where documents wait while the store is away (<state_dir>/spool)"
    )
    max_memory_docs: int = Field(
        default=10_000, gt=0, description="documents held in memory before they go to the spool"
    )

    @property
    def spool_folder(self) -> Path | None:
        if self.spool_dir is not None:
            return self.spool_dir
        return self.state_dir / "spool" if self.state_dir is not None else None

    @property
    def journal_path(self) -> Path | None:
        return self.state_dir / "journal.ndjson" if self.state_dir is not None else None

    log_level: str = "INFO"
