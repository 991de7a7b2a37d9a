"""Methodologists' analyses of a bundle: how much the test cases cover, what a new version changes.

- :mod:`~pedonc_routing.analysis.samples`: reading YAML test cases, and deterministic patients
  placed on the boundaries of a step's guards.
- :mod:`~pedonc_routing.analysis.coverage`: steps, transitions, overrides and guard
  boundaries exercised by a set of cases (``pedonc-routing coverage``).
- :mod:`~pedonc_routing.analysis.diff`: every kind of decision change between two versions
  of a bundle, with an example patient each (``pedonc-routing diff``).

Both are plain, deterministic Python (no hypothesis): a coverage report or a version diff is a
review artefact, so running it twice must give the same text.
"""

from __future__ import annotations

from pedonc_routing.analysis.coverage import CoverageReport, measure_coverage
from pedonc_routing.analysis.diff import DiffReport, diff_bundles
from pedonc_routing.analysis.samples import Case, CaseFileError, read_cases

__all__ = [
    "Case",
    "CaseFileError",
    "CoverageReport",
    "DiffReport",
    "diff_bundles",
    "measure_coverage",
    "read_cases",
]
