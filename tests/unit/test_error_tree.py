"""One exception tree: every error class of pedonc_routing.errors is a PedoncRoutingError
and keeps the builtin base it was first raised as; a language the protocols are not written
in is an UnknownLanguageError (still a ValueError)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import pedonc_routing as pr
from pedonc_routing import errors
from pedonc_routing.analysis import CaseFileError, read_cases
from pedonc_routing.testing import invariants, pytest_plugin

#: The builtin error each class was first raised as (handlers written for it must still work).
BUILTIN_BASES = {
    "PatientDataError": ValueError,
    "UnknownLanguageError": ValueError,
    "UnknownProtocolError": KeyError,
    "InvariantsError": ValueError,
}


def _error_classes() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }


def test_every_error_is_under_the_root() -> None:
    classes = _error_classes()
    assert {"CaseFileError", "CaseError", "InvariantsError", "UnknownLanguageError"} <= set(classes)
    for name, error in classes.items():
        assert issubclass(error, errors.PedoncRoutingError), name
        assert issubclass(error, BUILTIN_BASES.get(name, Exception)), name


def test_the_modules_that_raise_them_use_the_tree() -> None:
    assert CaseFileError is errors.CaseFileError
    assert pytest_plugin.CaseError is errors.CaseError  # type: ignore[attr-defined]
    assert invariants.InvariantsError is errors.InvariantsError


def test_a_bad_case_file_is_a_library_error(tmp_path: Path) -> None:
    bad = tmp_path / "cases.yaml"
    bad.write_text("cases: 3\n", encoding="utf-8")
    with pytest.raises(pr.PedoncRoutingError, match=r"cases\.yaml:1"):
        read_cases([bad])


def test_a_bad_invariants_file_lists_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "invariants.yaml"
    bad.write_text("kind: invariants\ninvariants: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"invariants\.yaml:2") as caught:
        invariants.load_invariants(bad)
    assert isinstance(caught.value, pr.PedoncRoutingError)
    assert len(caught.value.problems) == 1  # type: ignore[attr-defined]
    assert str(caught.value) == caught.value.problems[0]  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["de", "EN", None])
def test_an_unknown_language_is_an_error_of_the_tree(
    reference_bundle: pr.Bundle, lang: object
) -> None:
    patient = {"as_of": "2026-11-22T09:00:00+05:00", "home_region": "KZ-75"}
    with pytest.raises(pr.UnknownLanguageError) as caught:
        reference_bundle.route(patient, lang=lang)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, pr.PedoncRoutingError)
    assert error.lang == lang
    assert error.languages == ("en", "ru", "kk")
    assert str(error) == f"lang must be one of en, ru, kk, not {lang!r}"
    with pytest.raises(pr.UnknownLanguageError):
        next(reference_bundle.route_many([patient], lang=lang))  # type: ignore[arg-type]
