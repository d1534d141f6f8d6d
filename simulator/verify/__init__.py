"""Verification: the collector's documents held against the simulator's ledger."""
