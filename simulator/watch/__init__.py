"""The generator watches itself: event-loop lag, CPU and memory of the simulator's own process.

A load generator that is out of CPU reports its own lateness as the media server's fault. The
watch samples the process while it runs and says whether the run's results can be trusted
(``saturation``); ``verdict.invalid_reason`` is the one decision every run kind applies.
"""

from simulator.ledger import GeneratorReport, LagSummary
from simulator.watch.generator import GeneratorWatch, Sink
from simulator.watch.lag import LoopLagProbe
from simulator.watch.model import GeneratorSample
from simulator.watch.process import ProcessMeter
from simulator.watch.saturation import SaturationRule
from simulator.watch.verdict import invalid_reason

__all__ = [
    "GeneratorReport",
    "GeneratorSample",
    "GeneratorWatch",
    "LagSummary",
    "LoopLagProbe",
    "ProcessMeter",
    "SaturationRule",
    "Sink",
    "invalid_reason",
]
