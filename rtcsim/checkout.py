"""Files that belong to the checkout rather than to the package: ``kibana/`` (the saved objects
``rtcsim kibana import`` sends) and ``scenarios/`` (the soak's locustfile). They sit beside the
package in the checkout that ``make setup`` installs in editable mode, so they are found from
here, not from the working folder (``rtcsim kibana import`` works from anywhere). Results and
state are never placed from here: they go under the working folder (``simulator.settings``).
"""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
KIBANA_DIR = CHECKOUT / "kibana"
SCENARIOS_DIR = CHECKOUT / "scenarios"
