"""Load with locust: one locust user is one WebRTC participant (``locust_user``).

Only ``locust_user`` imports locust (which monkey-patches with gevent on import); nothing else
in rtcsim imports it, so the CLI and the tests never pull it in by accident.
"""
