"""``rtcsim soak``: a bounded load with continuous churn, watching the collector for leaks.

``judge`` holds the pure verdict (samples and bounds in, pass or the bounds broken out),
``probe`` reads a process's memory and descriptors from ``/proc`` and the visits from locust's
CSV, ``run`` plays the soak, ``cli`` mounts it on the ``rtcsim`` command.
"""
