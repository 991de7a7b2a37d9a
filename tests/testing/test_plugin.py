"""The pytest plugin: fixtures ``bundle``/``route`` and YAML cases, run in a sub-session."""

from __future__ import annotations

import pytest
from hypothesis import settings

from pedonc_routing.testing.profiles import register_profiles

pytest_plugins = ["pytester"]

CASES = """
protocol: all
cases:
  - name: B-ALL standard risk
    patient:
      as_of: 2026-11-22T09:00:00+05:00
      birth_date: 2020-05-02
      home_region: KZ-75
      diagnosis: {icd10: C91.0}
      position: {protocol: all, step: diagnosis}
      observations: {wbc_10e9_l: 12.5, immunophenotype: B}
    expect: {status: routed, step: induction_standard_risk, urgency: urgent}
  - name: wrong on purpose
    patient:
      as_of: 2026-11-22T09:00:00+05:00
      birth_date: 2020-05-02
      home_region: KZ-75
      diagnosis: {icd10: C91.0}
      position: {protocol: all, step: diagnosis}
      observations: {wbc_10e9_l: 60, immunophenotype: B}
    expect: {step: induction_standard_risk}
"""

FIXTURE_TEST = """
def test_fixtures(bundle, route):
    assert "all" in bundle.protocol_ids
    decision = route({"as_of": "2026-11-22T09:00:00+05:00", "birth_date": "2020-05-02",
                      "home_region": "KZ-75", "diagnosis": {"icd10": "C91.0"}})
    assert decision.protocol.id == "all"
"""


def test_yaml_cases_and_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"pedonc_cases/all": CASES})
    pytester.makepyfile(test_fixtures=FIXTURE_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*wrong on purpose*", "*got 'induction_high_risk'*"])


def test_ini_globs_and_protocols_option(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"authored/cases": CASES.split("  - name: wrong")[0]})
    pytester.makeini("[pytest]\npedonc_cases =\n    authored/*.yaml\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    missing = pytester.runpytest_inprocess("-p", "no:cacheprovider",
                                           "--pedonc-protocols", "nowhere")  # fmt: skip
    assert missing.ret != 0


def test_profiles_registered() -> None:
    assert register_profiles() is None
    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("deep").max_examples == 5000
