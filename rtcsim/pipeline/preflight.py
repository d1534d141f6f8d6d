"""Before anything plays: are the services there? A run needs the client namespace (its peers
live there), the collector (it records the run) and Elasticsearch (the checks read the run back):
without one of them the scenario would play to the end for nothing and fail at the read-back.
Each missing service is one ``SetupError`` line (exit 2) naming it and where it was looked for.
"""

from __future__ import annotations

import aiohttp
from elastic_transport import ApiError, TransportError

from collector.netns import namespace_exists
from collector.store import StoreError, UnsupportedVersionError, connect
from rtcsim.pipeline.conclude import check_collector
from rtcsim.pipeline.outcome import SetupError
from simulator.settings import Settings

START_HINT = "start the services first: rtcsim services up"
ES_TIMEOUT_S = 5.0


async def preflight(settings: Settings) -> None:
    """SetupError unless the client namespace, the collector and Elasticsearch are all there."""
    if not namespace_exists(settings.client_netns):
        raise SetupError(
            f"network namespace {settings.client_netns!r} (setting client_netns) does not "
            f"exist; {START_HINT}"
        )
    await check_collector(settings)
    await check_elasticsearch(settings)


async def check_elasticsearch(settings: Settings) -> None:
    options = settings.es_client_options(request_timeout_s=ES_TIMEOUT_S, max_retries=0)
    try:
        connection = await connect(options)
        await connection.client.close()
    except UnsupportedVersionError as exc:
        raise SetupError(str(exc)) from exc
    except (StoreError, ApiError, TransportError, aiohttp.ClientError, OSError) as exc:
        raise SetupError(
            f"Elasticsearch not answering at {settings.es_url} (settings es_host/es_port): "
            f"{exc}; {START_HINT}"
        ) from exc
