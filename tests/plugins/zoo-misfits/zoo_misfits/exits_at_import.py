"""Calls sys.exit(0) while it is imported: zoo must not end with it."""

import sys

sys.exit(0)
