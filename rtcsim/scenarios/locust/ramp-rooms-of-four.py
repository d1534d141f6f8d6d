"""Rooms of four (one cheap publisher of small video without audio, three cheap viewers, 20 s
visits) at the scale of issue 12's measurement: up to RTCSIM_RAMP_PEAK users (default 200)
over 90 s, held for 120 s, down to a quarter of the peak over 60 s; then every user finishes
its visit and the run ends (simulator.load.wind_down). About five minutes.

    rtcsim run scenarios/large/load-ramp-200.yaml                       # 200 users
    RTCSIM_RAMP_PEAK=150 rtcsim run scenarios/large/load-ramp-200.yaml  # another peak
"""

import os

from locust import constant

from simulator.load.arrivals import ramp
from simulator.load.locust_user import StagedArrivals, WebRTCUser
from simulator.load.visit import VisitPlan

PEAK = int(os.environ.get("RTCSIM_RAMP_PEAK", "200"))


class RoomOfFour(WebRTCUser):
    users_per_room = 4
    publishers_per_room = 1
    # Video only, as load-ramp-100 (rooms-of-four.py says why): with Opus 100 users already
    # saturated this machine.
    plan = VisitPlan(dwell_s=20, media="cheap", audio=False, width=320, height=240, fps=15)
    wait_time = constant(1)


class Arrivals(StagedArrivals):
    stages = ramp(PEAK, up_s=90, hold_s=120, down_to=PEAK // 4, down_s=60)
