"""Network impairment of a peer's packets at two depths (see ``DESIGN.md``).

* ``inprocess``: inside the peer's own aiortc transport; no root, per peer, exact and seeded.
* ``kernel``: nftables and ``tc`` rules inside the project's network namespaces; root.

Both take the same :class:`Impairment` per direction and can be changed mid-run.
"""

from simulator.impairment.model import NONE, Direction, Impairment, split

__all__ = ["NONE", "Direction", "Impairment", "split"]
