"""A run from its scenario file to its verdict: ``runs.run_file`` loads the scenario and hands it
to the timeline (``timeline``) or to locust (``load``); both end in ``conclude`` (documents read
back, checks, summary, report, ``junit``), with the ``outcome`` they return."""
