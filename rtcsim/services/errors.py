"""Errors of the service layer: one hierarchy, each message something a user can act on.

The CLI prints ``str(error)`` in red and exits 2, without a traceback, so every message must
say what failed, where to look (a log file, its last lines) and what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence


class ServiceError(Exception):
    """A service could not be set up, started, checked or stopped."""

    def __init__(self, message: str, *, hint: str | None = None, details: str | None = None):
        self.message = message
        self.hint = hint
        self.details = details
        super().__init__(message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.details:
            parts.append(self.details.rstrip())
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class CommandError(ServiceError):
    """An external command (``ip``, ``useradd``, ``mvn``...) failed or is missing."""

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int | None,
        output: str,
        *,
        hint: str | None = None,
    ):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        what = "not found" if returncode is None else f"exited with {returncode}"
        super().__init__(
            f"command {' '.join(self.argv)!r} {what}",
            details=tail_text(output, 20) if output else None,
            hint=hint,
        )


class NotInstalledError(ServiceError):
    """A program the services need is not on this machine."""


class NamespaceError(ServiceError):
    """The network namespaces or their veth pair could not be made or removed."""


class PortInUseError(ServiceError):
    """A port we must listen on is held by something we cannot reuse."""


class StartupError(ServiceError):
    """A service was launched but did not become healthy before its deadline."""


class JanusError(ServiceError):
    """Janus could not be configured, started or stopped."""


class JanusStartupError(JanusError, StartupError):
    """Janus exited or never answered ``/info``."""


class LiveKitError(ServiceError):
    """LiveKit could not be built, configured, started or stopped."""


class LiveKitBuildError(LiveKitError):
    """``go install`` of livekit-server failed or Go is missing."""


class LiveKitStartupError(LiveKitError, StartupError):
    """livekit-server exited or never answered its health check."""


class ElasticsearchError(ServiceError):
    """Elasticsearch could not be fetched, unpacked, started or stopped."""


class JdkNotFoundError(ElasticsearchError):
    """No Java runtime new enough for Elasticsearch."""


class MavenError(ElasticsearchError):
    """Maven could not fetch the Elasticsearch distribution."""


class ElasticsearchStartupError(ElasticsearchError, StartupError):
    """The Elasticsearch node exited or never turned yellow."""


class CollectorError(ServiceError):
    """The collector could not be started or stopped."""


class CollectorStartupError(CollectorError, StartupError):
    """The collector exited or never answered ``/health``."""


def tail_text(text: str, lines: int) -> str:
    """The last ``lines`` lines of ``text``, each indented so they read as quoted output."""
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in kept)
