"""Scenario files: rooms, participants and a timeline of steps, validated before anything runs."""
