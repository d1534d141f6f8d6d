"""Viewers arriving one by one, every 1.5 s, each watching for a while: a timeline that is
easier to compute than to write out. A Python scenario leaves its result in SCENARIO."""

VIEWERS = 6

timeline: list[dict[str, object]] = [
    {"at": 0.0, "do": "join", "who": "host"},
    {"at": 0.5, "do": "publish", "who": "host"},
]
for i in range(1, VIEWERS + 1):
    arrive = 1.0 + 1.5 * i
    timeline += [
        {"at": arrive, "do": "join", "who": f"viewer-{i}"},
        {"at": arrive + 0.5, "do": "subscribe", "who": f"viewer-{i}", "to": "host"},
        {"at": arrive + 6.0, "do": "leave", "who": f"viewer-{i}"},
    ]
timeline.append({"at": 1.0 + 1.5 * VIEWERS + 7.0, "do": "leave", "who": "host"})

SCENARIO = {
    "name": "staggered-arrivals",
    "description": "Six viewers arrive 1.5 s apart, watch for 6 s each, and leave.",
    "seed": 81,
    "rooms": [{"name": "stagger"}],
    "participants": [
        {"name": "host", "room": "stagger"},
        {"name": "viewer", "room": "stagger", "count": VIEWERS},
    ],
    "timeline": timeline,
    "expect": [
        {
            "name": "every viewer's subscription is summarised",
            "type": "subscriberSummary",
            "aggregate": "count",
            "op": "==",
            "value": VIEWERS,
        }
    ],
}
