"""Stages of the worker as pure functions of (message, state) -> (commands, state writes)."""
