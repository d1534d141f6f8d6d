"""The soak's churn: rooms of three, cheap media, short visits, so peers join and leave all the
time and the collector opens and closes sessions, connections and endpoints without pause.

Run by ``rtcsim soak`` (``make soak``); by hand:
rtcsim load scenarios/locust/soak.py --users 9 --spawn-rate 3 --run-time 5m
"""

from locust import between

from simulator.load.locust_user import WebRTCUser
from simulator.load.visit import VisitPlan


class ShortVisit(WebRTCUser):
    users_per_room = 3
    publishers_per_room = 1
    # Small video keeps nine users affordable on two cores; 5 s in the room, 0.5-1.5 s out
    # (so the rooms' seats free up at different times and sessions keep closing and reopening).
    plan = VisitPlan(dwell_s=5, media="cheap", width=320, height=240, fps=15)
    wait_time = between(0.5, 1.5)
