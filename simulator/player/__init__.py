"""Playing a scenario: the timeline runner, its step executors and the context they share; what
they do is written to the ledger (``simulator.ledger``)."""
