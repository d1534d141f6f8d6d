"""The real services rtcsim runs on one machine: network namespaces, Elasticsearch, the collector
and Janus, started in that order and stopped in reverse (see ``stack``)."""
