"""The results of past runs: their folders under ``results/``, their documents read back from
Elasticsearch or an NDJSON export, and a run verified again (``rtcsim check``)."""
