"""Fuzz the loader and the validator with hypothesis: mutated shipped protocols and
generated YAML (the generators of ``bench/fuzz.py``, driven by ``st.randoms()``).

Each case must give only Issue records with a known code and a position inside its file, no
exception, within a time bound. ``ci``: 150 + 150 cases; ``deep``
(``HYPOTHESIS_PROFILE=deep``): 50,000 + 50,000. ``bench/fuzz.py`` runs the same cases in
worker processes (100,000 in docs/performance.md).
"""

from __future__ import annotations

import os
import random
import time

import fuzz
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pedonc_routing.loader.yaml_reader import read_yaml_text

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
EXAMPLES = 50_000 if DEEP else 150
CASE_SECONDS = 2.0

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def corpus() -> fuzz.Corpus:
    return fuzz.Corpus.shipped()


def check(corpus: fuzz.Corpus, file: str, raw: bytes) -> list[str]:
    start = time.perf_counter()
    issues = fuzz.validate_case(corpus, file, raw)
    seconds = time.perf_counter() - start
    problems = fuzz.bad_issues(corpus, file, raw, issues)
    if seconds > CASE_SECONDS:
        problems.append(f"took {seconds:.2f} s")
    return problems


@fuzz_settings
@given(rng=st.randoms(use_true_random=False))
def test_mutated_shipped_files_give_only_typed_issues(
    corpus: fuzz.Corpus, rng: random.Random
) -> None:
    file, raw, applied = fuzz.mutated_case(rng, corpus)
    assert check(corpus, file, raw) == [], applied


@fuzz_settings
@given(rng=st.randoms(use_true_random=False))
def test_generated_yaml_gives_only_typed_issues(corpus: fuzz.Corpus, rng: random.Random) -> None:
    file, raw, applied = fuzz.generated_case(rng, corpus)
    assert check(corpus, file, raw) == [], applied


def test_the_fuzzer_reaches_every_stage(corpus: fuzz.Corpus) -> None:
    """Not vacuous: 300 seeded cases hit YAML errors, model errors and cross-file checks."""
    codes: set[str] = set()
    for seed in range(300):
        rng = random.Random(seed)
        make = fuzz.mutated_case if seed % 2 == 0 else fuzz.generated_case
        file, raw, _ = make(rng, corpus)
        codes.update(issue.code for issue in fuzz.validate_case(corpus, file, raw))
    assert {"Y001", "Y002", "S001", "S002"} <= codes
    assert any(code[0] in "RTGF" for code in codes), codes


def test_unchanged_shipped_files_are_clean(corpus: fuzz.Corpus) -> None:
    """The harness adds no issue of its own: each shipped file, unmutated, validates clean,
    but for R007 where a protocol hands over to one left out of the fuzzing bundle (the
    other protocols are left out for speed: 3 ms a case instead of 55 ms)."""
    for file, raw in corpus.files.items():
        issues = fuzz.validate_case(corpus, file, raw)
        errors = {issue.code for issue in issues if issue.severity == "error"}
        assert errors <= {"R007"}, (file, errors)


def test_lone_surrogate_text_is_an_issue() -> None:
    """A str with a lone surrogate (only reachable through ``read_yaml_text``) used to raise
    UnicodeEncodeError inside LibYAML."""
    loaded, issues = read_yaml_text("kind: \ud800\n", "f.yaml")
    assert loaded is None
    assert [(issue.code, issue.line, issue.column) for issue in issues] == [("Y001", 1, 7)]


@pytest.mark.parametrize("constant", [".nan", ".inf", "-.inf"])
def test_non_finite_guard_constant_is_t001_not_a_crash(corpus: fuzz.Corpus, constant: str) -> None:
    """bench/fuzz.py found ``gte: .nan`` (or .inf) in a guard crashing the guard analysis
    (``Fraction('nan')``); it is a T001 error at the constant now."""
    file = "protocols/survivorship.yaml"
    original = corpus.files[file]
    target = b"{input: heart_rt_gy, gte: 30}"
    assert target in original
    line = original[: original.index(target)].count(b"\n") + 1
    raw = original.replace(target, b"{input: heart_rt_gy, gte: " + constant.encode() + b"}", 1)
    issues = fuzz.validate_case(corpus, file, raw)
    found = [issue for issue in issues if issue.code == "T001"]
    assert [(issue.file, issue.line) for issue in found] == [(file, line)]
    assert "is not a finite number" in found[0].message


def test_positions_count_yaml_line_breaks(corpus: fuzz.Corpus) -> None:
    """YAML breaks lines at U+2028 too: the end of this one-newline text is on line 4 for
    YAML (the harness once counted only newlines and reported it as past the end)."""
    raw = "kind: protocol\u2028id: x\u2028[\n".encode()
    issues = fuzz.validate_case(corpus, "protocols/generated.yaml", raw)
    assert [(issue.code, issue.line) for issue in issues] == [("Y001", 4)]
    assert fuzz.bad_issues(corpus, "protocols/generated.yaml", raw, issues) == []
