"""Browser-like load: rooms of three, one cheap simulcast publisher (640x360 in three layers,
about 375/125/40 kbit/s) and two cheap viewers on different layers (the lowest and the
highest, as a small and a big tile), 12 s visits.

rtcsim load scenarios/locust/simulcast-small.py --users 6 --spawn-rate 3 --run-time 40s
"""

from locust import constant

from simulator.load.locust_user import WebRTCUser
from simulator.load.visit import VisitPlan


class SimulcastRoomOfThree(WebRTCUser):
    users_per_room = 3
    publishers_per_room = 1
    plan = VisitPlan(
        dwell_s=12, media="cheap", width=640, height=360, simulcast=True, substreams=(0, 2)
    )
    wait_time = constant(1)
