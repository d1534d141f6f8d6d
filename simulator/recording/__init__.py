"""Recordings of a room, as OpenVidu makes them: INDIVIDUAL (one file per published track) or
COMPOSED (one file, every video in a best-fit grid and the audio mixed).

Janus's VideoRoom records every stream into ``.mjr`` files (its driver switches the recorders:
``simulator.driver.janus.recording``); ``conversion`` turns them into playable files with
``janus-pp-rec``; ``composition`` lays them out with PyAV; ``manager`` keeps one active
recording per room and reports its statuses to the collector.
"""
