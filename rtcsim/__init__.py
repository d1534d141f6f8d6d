"""rtcsim's composition root: the command line, the run pipeline, past results, the report,
the services and the pytest plugin, built on the library (``simulator``) and the collector.

Imports only go down: ``rtcsim`` -> ``simulator`` -> ``collector``; neither of those imports
anything of this package.
"""
