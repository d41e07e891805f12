"""Fails on import: a dependency that is not installed."""

import zoo_misfits_missing_dependency  # noqa: F401
