"""A small load: rooms of three (one publisher, two viewers), cheap media, 10 s visits; the
first room of each process is recorded (INDIVIDUAL), so a run has all ten document types.

rtcsim load scenarios/locust/load-small.py --users 6 --spawn-rate 3 --run-time 60s
"""

from locust import constant

from simulator.load.locust_user import WebRTCUser
from simulator.load.visit import VisitPlan


class RoomOfThree(WebRTCUser):
    users_per_room = 3
    publishers_per_room = 1
    plan = VisitPlan(dwell_s=10, media="cheap", record_rooms=1)
    wait_time = constant(1)
