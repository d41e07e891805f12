"""Plugins that misbehave on purpose, one per module."""
