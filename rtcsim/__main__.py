"""``python -m rtcsim``: the ``rtcsim`` command (the soak starts its load this way)."""

from rtcsim.cli import main

main()
