"""Rooms of four (one cheap publisher of small video, three cheap viewers, 20 s visits) for a
hundred users: up to 100 over 40 s, held for 100 s, down to 20 over 30 s; then every user
finishes its visit and the run ends (simulator.load.wind_down).

    rtcsim run scenarios/load-ramp-100.yaml    # with a master and two workers
"""

from locust import constant

from simulator.load.arrivals import ramp
from simulator.load.locust_user import StagedArrivals, WebRTCUser
from simulator.load.visit import VisitPlan


class RoomOfFour(WebRTCUser):
    users_per_room = 4
    publishers_per_room = 1
    # Video only, 320x240 at 15 fps, pre-encoded and counted without decoding: a hundred peers
    # fit on the generator's share of two cores. Opus's 50 packets a second from each
    # publisher, relayed to three viewers, are four fifths of the packets: with them the whole
    # machine was busy (Elasticsearch, Janus, the workers) and the workers' loop lag p95 was
    # 133-165 ms, past the 100 ms that makes a run invalid; without them 33 ms. Audio at load
    # is load-small.py's and simulcast-small.py's (and every scripted scenario's).
    plan = VisitPlan(dwell_s=20, media="cheap", audio=False, width=320, height=240, fps=15)
    wait_time = constant(1)


class Arrivals(StagedArrivals):
    stages = ramp(100, up_s=40, hold_s=100, down_to=20, down_s=30)
