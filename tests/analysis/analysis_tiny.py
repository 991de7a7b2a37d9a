"""Tiny-protocol builders for the analysis tests: the walker tests' own, reused."""

from __future__ import annotations

from conftest import PROTOCOLS_DIR, REPO_ROOT
from unit.test_walker import protocol, step, transition

__all__ = ["PROTOCOLS_DIR", "REPO_ROOT", "protocol", "step", "transition"]
