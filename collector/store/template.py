"""The index template as the cluster's major takes it.

One versioned file (``collector/templates/openvidu-template-v1.json``) is the template; this
module aims it at the index and fits it to the server. Composable templates (``PUT
_index_template``) exist from Elasticsearch 7.8 on, so every supported major takes the same
form; what differs is read from the server's version here, in one place.
"""

from __future__ import annotations

from typing import Any

from collector.store.base import load_template
from collector.store.client import ServerVersion


def template_for(index: str, version: ServerVersion | None = None) -> dict[str, Any]:
    """The composable template for ``index`` and ``index-*``, in the form ``version`` takes.

    ``version`` ``None`` (a store whose cluster's version nobody asked) gets the newest form.
    """
    template = load_template(index)
    if version is not None:
        template["_meta"]["elasticsearch"] = version.number or str(version)
    return template
