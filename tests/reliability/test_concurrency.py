"""Concurrency, scaled down from ``bench/concurrency.py``: 8 threads sharing one bundle give
the single-threaded decisions, and a Router swapped between two bundle versions under load
gives, for every decision, the decision of the bundle whose hash it records.

Full size (8 threads x 100,000 decisions, 100 reloads) with ``PEDONC_FULL_CONCURRENCY=1`` or
``HYPOTHESIS_PROFILE=deep``.
"""

from __future__ import annotations

import os
from pathlib import Path

import concurrency
import pytest

import pedonc_routing as pr

FULL = os.environ.get("PEDONC_FULL_CONCURRENCY") == "1" or (
    os.environ.get("HYPOTHESIS_PROFILE") == "deep"
)
PER_THREAD = 100_000 if FULL else 400
RELOADS = 100 if FULL else 4


@pytest.fixture(scope="module")
def patients(shipped_bundle: pr.Bundle) -> list[dict[str, object]]:
    return concurrency.valid_patients(shipped_bundle)


def test_eight_threads_share_one_bundle(
    shipped_bundle: pr.Bundle, patients: list[dict[str, object]]
) -> None:
    result = concurrency.shared_bundle(shipped_bundle, patients, 8, PER_THREAD)
    assert result["decisions"] == 8 * PER_THREAD
    assert result["errors"] == []
    assert result["mismatches"] == 0


def test_reload_under_load_keeps_every_decision_consistent(
    patients: list[dict[str, object]], tmp_path: Path
) -> None:
    # Routing threads pause 1 ms between decisions in the fast run (a busy server, not a
    # saturated one), so reloads finish quickly; the full run routes flat out.
    pause = 0 if FULL else 0.001
    result = concurrency.reload_under_load(patients, 8, RELOADS, tmp_path, pause)
    assert result["errors"] == []
    assert result["mismatches"] == 0
    # not vacuous: both versions served, and they decide differently for some children
    assert result["bundle_hashes_seen"] == 2
    assert result["patients_whose_decision_differs_between_versions"] > 0
    assert result["decisions"] > 0
