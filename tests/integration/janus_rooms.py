"""The VideoRoom rooms a real Janus holds, asked through its Admin API from inside the
server's network namespace (the Admin API listens on that namespace's loopback only)."""

from __future__ import annotations

import json
import subprocess
import sys

from simulator.settings import Settings

_ASK = """
import json, sys, urllib.request
port, secret = int(sys.argv[1]), sys.argv[2]
body = {"janus": "message_plugin", "plugin": "janus.plugin.videoroom", "transaction": "rooms",
        "admin_secret": secret, "request": {"request": "list"}}
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
request = urllib.request.Request(f"http://127.0.0.1:{port}/admin", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
print(opener.open(request, timeout=10).read().decode())
"""


def janus_rooms(settings: Settings) -> list[str]:
    """The names of every room the stack's Janus holds now."""
    ask = [sys.executable, "-c", _ASK, str(settings.janus_admin_port), settings.janus_admin_secret]
    found = subprocess.run(
        ["ip", "netns", "exec", settings.sfu_netns, *ask],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    reply = json.loads(found.stdout)
    return [str(room["room"]) for room in reply["response"]["list"]]
