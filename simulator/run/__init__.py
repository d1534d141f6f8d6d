"""Playing a scenario: the timeline runner, its step executors and the ledger it writes."""
