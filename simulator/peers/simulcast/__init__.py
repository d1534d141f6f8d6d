"""Simulcast publishing: three VP8 layers by rid, as a browser sends them (``publisher``)."""
