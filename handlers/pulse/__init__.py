"""Pulse surveys: one question in a pair's group DM, answered with one reaction or button."""
