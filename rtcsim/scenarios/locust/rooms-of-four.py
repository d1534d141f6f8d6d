"""Rooms of four (one cheap publisher, three cheap viewers, small video, 20 s visits) for a
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
    # 320x240 at 15 fps, pre-encoded and counted without decoding: a hundred peers fit on the
    # generator's share of two cores.
    plan = VisitPlan(dwell_s=20, media="cheap", width=320, height=240, fps=15)
    wait_time = constant(1)


class Arrivals(StagedArrivals):
    stages = ramp(100, up_s=40, hold_s=100, down_to=20, down_s=30)
