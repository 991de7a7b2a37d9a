"""Hot reload under concurrent routing (every decision consistent with one bundle, a bad
bundle refused while the old one keeps serving), the on_decision hook, and route_many equal
to sequential routing, with worker processes too."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from concurrency import changed_threshold  # bench/concurrency.py

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, PROTOCOLS_DIR

STANDARD = yaml.safe_load((EXAMPLES_DIR / "01_b_all_standard_risk.yaml").read_text("utf-8"))


def test_reload_swaps_atomically_under_load(tmp_path: Path) -> None:
    old = pr.load_bundle(PROTOCOLS_DIR)
    new_root = changed_threshold(tmp_path / "new")
    expected = {
        old.content_hash: "induction_standard_risk",  # WBC 12.5 < 50
        pr.load_bundle(new_root).content_hash: "induction_high_risk",  # WBC 12.5 >= 10
    }
    router = pr.Router(old)
    seen: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                decision = router.route(STANDARD)
                assert decision.step is not None
                seen.append((decision.bundle_hash, decision.step.id))
                time.sleep(0.001)  # leave the GIL to the reloading thread now and then
        except BaseException as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    router.reload(new_root)
    router.reload(PROTOCOLS_DIR)
    router.reload(new_root)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({bundle_hash for bundle_hash, _ in seen}) == 2
    # every decision is the one its own bundle gives
    assert all(expected[bundle_hash] == step for bundle_hash, step in seen)
    assert router.bundle.content_hash in expected


def test_invalid_bundle_is_refused_and_old_keeps_serving(tmp_path: Path) -> None:
    router = pr.Router(pr.load_bundle(PROTOCOLS_DIR))
    before = router.bundle.content_hash
    broken = tmp_path / "broken"
    shutil.copytree(PROTOCOLS_DIR, broken)
    (broken / "all.yaml").write_text("kind: protocol\nid: [\n", encoding="utf-8")
    with pytest.raises(pr.ValidationFailed):
        router.reload(broken)
    assert router.bundle.content_hash == before
    assert router.route(STANDARD).bundle_hash == before


def test_on_decision_hook_sees_every_decision_and_cannot_lose_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[pr.Decision] = []

    def failing_hook(decision: pr.Decision) -> None:
        received.append(decision)
        raise RuntimeError("audit log down for patient anon-HOOK-SECRET")

    router = pr.Router(pr.load_bundle(PROTOCOLS_DIR), on_decision=failing_hook)
    with caplog.at_level(logging.DEBUG, logger="pedonc_routing"):
        decision = router.route(STANDARD)
    assert received == [decision]
    assert decision.status == "routed"
    assert "on_decision hook raised RuntimeError (decision routed)" in caplog.text
    assert "anon-HOOK-SECRET" not in caplog.text  # the caller's message is not logged


def batch() -> list[dict[str, Any]]:
    patients = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(EXAMPLES_DIR.rglob("*.yaml"))
        if path.name != "expected.yaml"
    ]
    broken = dict(patients[0], home_region="KZ-99")
    return [*patients, broken]


@pytest.mark.parametrize("workers", [1, 2])
def test_route_many_equals_sequential(shipped_bundle: pr.Bundle, workers: int) -> None:
    patients = batch()
    results = list(shipped_bundle.route_many(patients, workers=workers, chunksize=16))
    assert len(results) == len(patients)
    sequential = list(shipped_bundle.route_many(patients, workers=1))
    assert sum(isinstance(item, pr.PatientDataError) for item in sequential) == 1
    for got, want in zip(results, sequential, strict=True):
        assert type(got) is type(want)
        if isinstance(want, pr.PatientDataError):
            assert isinstance(got, pr.PatientDataError)
            assert got.problems == want.problems
        else:
            assert isinstance(got, pr.Decision)
            assert got == want  # rebuilt from the worker's JSON: the same model, field by field
            assert got.to_dict() == want.to_dict()


@pytest.mark.parametrize("workers", [1, 2])
def test_route_many_json_lines_equal_sequential(shipped_bundle: pr.Bundle, workers: int) -> None:
    import json

    patients = batch()
    lines = list(shipped_bundle.route_many_json(patients, workers=workers, chunksize=16))
    assert len(lines) == len(patients)
    for line, result in zip(lines, shipped_bundle.route_many(patients, workers=1), strict=True):
        data = json.loads(line)
        if isinstance(result, pr.PatientDataError):
            assert data == {"error": "patient_data", "problems": result.problems}
        else:
            assert data == result.to_dict()


def test_cli_batch_writes_json_lines(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from pedonc_routing.cli import main

    folder = tmp_path / "patients"
    folder.mkdir()
    for index, patient in enumerate(batch()[:5]):
        (folder / f"{index:02d}.yaml").write_text(yaml.safe_dump(patient), encoding="utf-8")
    (folder / "99_invalid.yaml").write_text(
        yaml.safe_dump(dict(STANDARD, home_region="KZ-99", patient_id="anon-SECRET-1")),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["route", "--batch", str(folder), "--workers", "1", "--protocols", str(PROTOCOLS_DIR)]
    )
    assert result.exit_code == 1  # one invalid patient
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 6
    assert json.loads(lines[-1])["error"] == "patient_data"
    assert "anon-SECRET-1" not in result.output
    assert "6 patient(s), 1 with invalid data" in result.output


@pytest.mark.parametrize("lang", ["de", "EN", None])
def test_an_unknown_language_is_a_value_error_before_routing(lang: Any) -> None:
    bundle = pr.load_bundle(PROTOCOLS_DIR)
    with pytest.raises(ValueError, match="lang must be one of en, ru, kk"):
        bundle.route(STANDARD, lang=lang)
    with pytest.raises(ValueError, match="lang must be one of en, ru, kk"):
        next(bundle.route_many([STANDARD], lang=lang))
    assert bundle.route(STANDARD).status == "routed"
