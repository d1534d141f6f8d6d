"""Rooms of three (one cheap publisher, two cheap viewers, 10 s visits) arriving in stages:
up to 12 users over 20 s, held until 60 s, down to 6 by 80 s; then every user finishes its
visit and the run ends (simulator.load.wind_down). The first room of each process is recorded,
so a run has all ten document types.

    rtcsim run scenarios/load-distributed.yaml    # with a master and two workers
"""

from locust import constant

from simulator.load.arrivals import ramp
from simulator.load.locust_user import StagedArrivals, WebRTCUser
from simulator.load.visit import VisitPlan


class RoomOfThree(WebRTCUser):
    users_per_room = 3
    publishers_per_room = 1
    plan = VisitPlan(dwell_s=10, media="cheap", record_rooms=1)
    wait_time = constant(1)


class Arrivals(StagedArrivals):
    stages = ramp(12, up_s=20, hold_s=40, down_to=6, down_s=20)
