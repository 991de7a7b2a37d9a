"""pytest plugin (entry point ``pytest11``): fixtures and YAML test cases for bundles.

Why: a protocol author should be able to test a pathway without writing Python. Installing
pedonc_routing activates this plugin in every pytest run, which gives:

- fixture ``bundle``: the shipped protocols, or the folder given by ``--pedonc-protocols
  DIR`` or the ini option ``pedonc_protocols`` (session-scoped: loaded once);
- fixture ``route``: ``route(patient) -> Decision`` with that bundle;
- YAML test cases: every file matching ``pedonc_cases/*.yaml`` (or the globs of the ini
  option ``pedonc_cases``, relative to the rootdir) is collected, each case one test item.

Case file format (the same as the repository's ``tests/cases/*.yaml``)::

    protocol: all                       # informational
    cases:
      - name: B-ALL standard risk
        patient: {...}                  # a patient state inline, or
        file: patients/01.yaml          # a path, relative to the case file (or the rootdir)
        expect:                         # every key optional; only given keys are checked
          status: routed
          protocol: all
          step: induction_standard_risk
          urgency: urgent
          facility_level: republican
          facility: kz75_scpps
          specialist: pediatric_oncohematologist
          missing: []
          follow_ups: [echocardiogram]  # ids, any order
          follow_up_intervals: {echocardiogram: 24}

Each case also checks the two engines agree when both are available. Fixtures defined by a
project's own ``conftest.py`` (e.g. its own ``bundle``) take precedence over these.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pedonc_routing.bundle import Bundle, load_bundle
from pedonc_routing.decision.model import Decision
from pedonc_routing.errors import CaseError

__all__ = ["CASE_KEYS", "observed"]

CASE_KEYS = frozenset(
    {
        "status",
        "protocol",
        "step",
        "urgency",
        "facility_level",
        "facility",
        "specialist",
        "missing",
        "follow_ups",
        "follow_up_intervals",
    }
)
_BUNDLE_KEY = pytest.StashKey[Bundle]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pedonc_routing")
    group.addoption(
        "--pedonc-protocols",
        metavar="DIR",
        default=None,
        help="bundle folder for the `bundle`/`route` fixtures and YAML cases "
        "(default: the shipped protocols)",
    )
    parser.addini("pedonc_protocols", "bundle folder (as --pedonc-protocols)", default="")
    parser.addini(
        "pedonc_cases",
        "globs (relative to the rootdir) of YAML case files; default: pedonc_cases/*.yaml",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    from pedonc_routing.testing.profiles import register_profiles

    register_profiles()  # so `--hypothesis-profile=ci|deep` works in any project


def _protocols_dir(config: pytest.Config) -> Path | None:
    option = config.getoption("--pedonc-protocols", default=None)
    value = option or config.getini("pedonc_protocols")
    if not value:
        return None
    path = Path(str(value))
    return path if path.is_absolute() else Path(config.rootpath) / path


def configured_bundle(config: pytest.Config) -> Bundle:
    """The bundle of this test session (loaded once, on first use)."""
    if _BUNDLE_KEY not in config.stash:
        config.stash[_BUNDLE_KEY] = load_bundle(_protocols_dir(config))
    return config.stash[_BUNDLE_KEY]


@pytest.fixture(scope="session")
def bundle(pytestconfig: pytest.Config) -> Bundle:
    """The bundle under test: ``--pedonc-protocols``/``pedonc_protocols``, else shipped."""
    return configured_bundle(pytestconfig)


@pytest.fixture(scope="session")
def route(bundle: Bundle) -> Callable[[Mapping[str, Any]], Decision]:
    """``route(patient)``: the decision of the session's bundle for a patient mapping."""

    def route(patient: Mapping[str, Any]) -> Decision:
        return bundle.route(patient)

    return route


# -- YAML cases ----------------------------------------------------------------------------


def _is_case_file(path: Path, config: pytest.Config) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    globs: list[str] = config.getini("pedonc_cases")
    if not globs:
        return path.parent.name == "pedonc_cases"
    try:
        relative = path.resolve().relative_to(Path(config.rootpath).resolve()).as_posix()
    except ValueError:
        return False
    return any(fnmatch.fnmatch(relative, pattern) for pattern in globs)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_case_file(file_path, parent.config):
        return CaseFile.from_parent(parent, path=file_path)
    return None


def observed(decision: Decision) -> dict[str, Any]:
    """The decision's fields a case may expect."""
    return {
        "status": decision.status,
        "protocol": decision.protocol.id if decision.protocol else None,
        "step": decision.step.id if decision.step else None,
        "urgency": decision.urgency,
        "facility_level": decision.facility.level if decision.facility else None,
        "facility": decision.facility.id if decision.facility else None,
        "specialist": decision.specialist.id if decision.specialist else None,
        "missing": decision.missing,
        "follow_ups": sorted(item.id for item in decision.follow_ups),
        "follow_up_intervals": {item.id: item.interval_months for item in decision.follow_ups},
    }


def case_differences(decision: Decision, expect: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{key: (got, expected)}`` for every expected field the decision does not match.

    ``follow_ups`` compare as sets; ``follow_up_intervals`` only for the ids the case names.
    """
    got = observed(decision)
    wanted = dict(expect)
    if "follow_ups" in wanted:
        wanted["follow_ups"] = sorted(wanted["follow_ups"])
    if "follow_up_intervals" in wanted:
        intervals = got["follow_up_intervals"]
        got["follow_up_intervals"] = {
            key: intervals.get(key) for key in wanted["follow_up_intervals"]
        }
    return {key: (got[key], wanted[key]) for key in wanted if got[key] != wanted[key]}


class CaseFile(pytest.File):
    """One YAML case file: one item per case."""

    def collect(self) -> Iterator[pytest.Item]:
        import yaml

        document = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
            raise CaseError(f"{self.path}: expected a mapping with a `cases` list")
        for index, case in enumerate(document["cases"]):
            if not isinstance(case, dict):
                raise CaseError(f"{self.path}: case {index} is not a mapping")
            name = str(case.get("name") or f"case {index}")
            yield CaseItem.from_parent(self, name=f"[{index}] {name}", case=case)


class CaseItem(pytest.Item):
    """One case: route the patient, compare the expected fields."""

    def __init__(self, *, case: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def _patient(self) -> Any:
        import yaml

        if "patient" in self.case:
            return self.case["patient"]
        if "file" not in self.case:
            raise CaseError("a case needs `patient` or `file`")
        relative = Path(str(self.case["file"]))
        for base in (self.path.parent, Path(self.config.rootpath)):
            if (base / relative).is_file():
                return yaml.safe_load((base / relative).read_text(encoding="utf-8"))
        raise CaseError(f"patient file not found: {relative}")

    def runtest(self) -> None:
        from pedonc_routing.testing.properties import _twin, _without_engine

        expect = self.case.get("expect")
        if not isinstance(expect, dict):
            raise CaseError("a case needs an `expect` mapping")
        unknown = set(expect) - CASE_KEYS
        if unknown:
            raise CaseError(f"unknown expect keys: {sorted(unknown)}")
        bundle = configured_bundle(self.config)
        patient = self._patient()
        decision = bundle.route(patient)
        differences = case_differences(decision, expect)
        if differences:
            lines = [f"  {key}: got {g!r}, expected {w!r}" for key, (g, w) in differences.items()]
            raise AssertionError(
                f"decision: {decision.summary()}\n"
                + "\n".join(lines)
                + "\nexplanation:\n"
                + "\n".join(f"  {e.source}: {e.because}" for e in decision.explanation)
            )
        twin = _twin(bundle)
        if twin is not None and _without_engine(twin.route(patient)) != _without_engine(decision):
            raise AssertionError("the durable-rules and reference engines disagree on this case")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, AssertionError | CaseError):
            return f"{self.path.name} {self.name}:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"case {self.name}"
