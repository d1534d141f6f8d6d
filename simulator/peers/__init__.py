"""Synthetic WebRTC participants built on aiortc: tracks, sinks and peer connections."""
