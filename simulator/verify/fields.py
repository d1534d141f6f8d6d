"""The document types and their top-level fields, as a scenario's expectations may name them:
OpenVidu's own (the seed's examples, ``openvidu_seed.json``) and rtcsim's documented extras
(``docs/documents.md``: the 2.12+ keys OpenVidu added after the seed, ``rtcsim_*``, client
samples, simulcast layers). An expectation naming anything else matches no document and would
pass or fail for a reason nobody meant (``type: webrtcstats`` with ``count < 1`` passes on
nothing), so it is refused before the run, with a did-you-mean.
"""

from __future__ import annotations

import difflib
from functools import cache

from simulator.verify.schema import seed_examples


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


RUN = _names("rtcsim_run_id uniqueSessionId")
EXTRA_FIELDS: dict[str, frozenset[str]] = {
    "cdr": RUN
    | _names(
        "participantId connectionId user location ip platform clientData serverData streamId "
        "connection receivingFrom videoSource videoFramerate videoDimensions audioEnabled "
        "videoEnabled id name outputMode resolution frameRate recordingLayout customLayout "
        "hasAudio hasVideo size status from to type data rtcsim_failure"
    ),
    "kms": RUN
    | _names(
        "sessionId connectionId candidatePair oldState newState padName mediaType rtcsim_side"
    ),
    "webrtcStats": RUN
    | _names(
        "sessionId connectionId bytesSent packetsSent roundTripTime targetBitrate layer "
        "rtcsim_side framesSent framesReceived transportBytesReceived latencyP50Ms latencyP95Ms "
        "rtcsim_substream rtcsim_substream_since"
    ),
    "monitoringStats": _names("janus_cpu janus_rss_kb"),
    "sessionSummary": RUN | _names("elastic_type timestamp"),
    "userSummary": RUN | _names("ip sessionId"),
    "connectionSummary": RUN | _names("geoPoints ip location platform sessionId"),
    "publisherSummary": RUN | _names("connectionId simulcastLayers"),
    "subscriberSummary": RUN | _names("connectionId rtcsim_substream rtcsim_substreams"),
    "recordingSummary": RUN | _names("frameRate status customLayout"),
    "generatorStats": _names(
        "elastic_type timestamp rtcsim_run_id process pid hostname loopLagP50Ms loopLagP95Ms "
        "loopLagMaxMs cpuCores loopCpuCores rssKb saturated"
    ),
}


@cache
def document_fields() -> dict[str, frozenset[str]]:
    """elastic_type -> every top-level field a document of that type may have."""
    seed = seed_examples()
    types = sorted(set(seed) | set(EXTRA_FIELDS))
    return {t: frozenset(seed.get(t, {})) | EXTRA_FIELDS.get(t, frozenset()) for t in types}


def unknown_type(elastic_type: str) -> str | None:
    """Why ``elastic_type`` names no document type, with a did-you-mean; None when it does."""
    types = document_fields()
    if elastic_type in types:
        return None
    folded = {t.lower(): t for t in types}
    close = [folded[elastic_type.lower()]] if elastic_type.lower() in folded else []
    close = close or difflib.get_close_matches(elastic_type, list(types), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"types: {', '.join(types)}"
    return f"{elastic_type!r} is not a document type; {hint}"


def unknown_field(elastic_type: str, name: str) -> str | None:
    """Why ``name`` is no field of ``elastic_type`` documents, with a did-you-mean."""
    fields = document_fields().get(elastic_type)
    if fields is None or name in fields:
        return None
    folded = {f.lower(): f for f in fields}
    close = [folded[name.lower()]] if name.lower() in folded else []
    close = close or difflib.get_close_matches(name, sorted(fields), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(sorted(fields))}"
    return f"{name!r} is not a field of {elastic_type} documents (docs/documents.md); {hint}"
