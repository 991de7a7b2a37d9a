"""The JSON API, FHIR $apply, family guide and operations endpoints, on a real server."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import pedonc_routing as pr
from pedonc_routing.interop.fhir import decision_to_proposal, patient_from_fhir, patient_to_fhir
from pedonc_routing.service.audit import SqliteAuditStore, patient_key
from service.server_process import ADMIN_KEY, API_KEY, AUDIT_KEY, ServerProcess
from service.service_examples import all_example_patients, example_patient

HODGKIN = "hodgkin_lymphoma/03_stage_ib_tg1.yaml"


def _store(server: ServerProcess) -> SqliteAuditStore:
    return SqliteAuditStore(
        Path(server.audit_url.removeprefix("sqlite:///")), bytes.fromhex(AUDIT_KEY)
    )


def _library_answer(bundle: pr.Bundle, patient: dict[str, Any]) -> dict[str, Any]:
    try:
        return bundle.route(patient).to_dict()
    except pr.PatientDataError as error:
        return {"error": "patient_data", "problems": error.problems}


def test_route_gives_the_library_decision_and_audits_it_first(
    server: ServerProcess, api_headers: dict[str, str], shipped_bundle: pr.Bundle
) -> None:
    store = _store(server)
    for patient in all_example_patients():
        response = httpx.post(f"{server.url}/route", json=patient, headers=api_headers)
        expected = _library_answer(shipped_bundle, patient)
        if "problems" in expected:
            assert response.status_code == 422
            assert response.json() == expected
            continue
        assert response.status_code == 200, response.text
        assert response.json() == expected
        record = store.get(int(response.headers["Audit-Record"]))
        assert record is not None
        assert record.decision == expected
        assert record.bundle_hash == expected["bundle_hash"]
        assert record.protocols["all"] == shipped_bundle.protocol("all").version
        expected_key = patient_key(bytes.fromhex(AUDIT_KEY), patient.get("patient_id"))
        assert record.patient_key == expected_key
    store.close()


def test_a_child_is_found_by_id_but_the_store_never_holds_the_id(
    server: ServerProcess, api_headers: dict[str, str]
) -> None:
    patient = {**example_patient(HODGKIN), "patient_id": "kz-child-7731942"}
    for _ in range(2):
        assert (
            httpx.post(f"{server.url}/route", json=patient, headers=api_headers).status_code == 200
        )
    store = _store(server)
    records = store.find("kz-child-7731942")
    store.close()
    assert len(records) == 2
    assert all(record.status == "routed" for record in records)
    database = Path(server.audit_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert b"kz-child-7731942" not in path.read_bytes()


def test_invalid_patient_is_422_with_every_problem_and_no_patient_id(
    server: ServerProcess, api_headers: dict[str, str]
) -> None:
    patient = {**example_patient(HODGKIN), "patient_id": "kz-secret-4411"}
    patient["home_region"] = "KZ-99"
    patient["observations"] = {"anc_10e9_l": -1}
    response = httpx.post(f"{server.url}/route", json=patient, headers=api_headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "patient_data"
    assert len(body["problems"]) >= 2
    assert "kz-secret-4411" not in response.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-API-Key": "wrong"}, 401), ({"Authorization": "Bearer wrong"}, 401)],
)
def test_the_json_api_needs_a_key(
    server: ServerProcess, headers: dict[str, str], status: int
) -> None:
    response = httpx.post(f"{server.url}/route", json=example_patient(HODGKIN), headers=headers)
    assert response.status_code == status


def test_bearer_api_key_is_accepted(server: ServerProcess) -> None:
    response = httpx.post(
        f"{server.url}/route",
        json=example_patient(HODGKIN),
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"as_of": NaN}', 400, "invalid_json"),
        (b"[1, 2]", 422, "patient_data"),
        (b"[" * 100_000, 400, "invalid_json"),
    ],
)
def test_bad_bodies_are_clear_errors(
    server: ServerProcess, api_headers: dict[str, str], body: bytes, status: int, error: str
) -> None:
    response = httpx.post(f"{server.url}/route", content=body, headers=api_headers)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_unknown_language_is_400(server: ServerProcess, api_headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{server.url}/route?lang=fr", json=example_patient(HODGKIN), headers=api_headers
    )
    assert response.status_code == 400


def test_oversize_body_is_413(server: ServerProcess, api_headers: dict[str, str]) -> None:
    big = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = httpx.post(f"{server.url}/route", content=big, headers=api_headers)
    assert response.status_code == 413


def test_oversize_chunked_body_is_413(server: ServerProcess, api_headers: dict[str, str]) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 100_000

    response = httpx.post(f"{server.url}/route", content=chunks(), headers=api_headers)
    assert response.status_code == 413


def test_a_stalled_body_times_out_with_503(tmp_path: Path) -> None:
    slow = ServerProcess(tmp_path, extra=["--request-timeout", "0.5"])
    try:
        with socket.create_connection(("127.0.0.1", slow.port)) as connection:
            connection.sendall(
                b"POST /route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\nX-API-Key: test-api-key-0123456789\r\n\r\n{"
            )
            started = time.monotonic()
            connection.settimeout(10)
            reply = connection.recv(4096)
        assert reply.startswith(b"HTTP/1.1 503"), reply
        assert time.monotonic() - started < 5
    finally:
        slow.stop()


def test_batch_streams_one_line_per_patient_in_order(
    server: ServerProcess, api_headers: dict[str, str], shipped_bundle: pr.Bundle
) -> None:
    patients = all_example_patients()[:12]
    lines = [json.dumps(patient) for patient in patients]
    lines.insert(3, "{broken")
    lines.insert(5, "")
    lines.append(json.dumps({"as_of": "2026-01-01T00:00:00+05:00"}))
    with httpx.stream(
        "POST", f"{server.url}/route/batch", content="\n".join(lines) + "\n", headers=api_headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        out = [json.loads(line) for line in response.iter_lines() if line]
    assert len(out) == len(patients) + 2  # the blank line gives no output
    assert out[3] == {"error": "invalid_json", "line": 4, "problems": [out[3]["problems"][0]]}
    decisions = [line for line in out if "error" not in line]
    for patient, line in zip(patients, decisions, strict=True):
        record_id = line.pop("audit_record")
        assert isinstance(record_id, int)
        assert line == shipped_bundle.route(patient).to_dict()
    assert out[-1]["error"] == "patient_data"
    assert out[-1]["line"] == len(lines)


def test_health_readiness_metrics_and_openapi(
    server: ServerProcess, api_headers: dict[str, str]
) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz").json()
    assert ready["status"] == "ready"
    assert ready["bundle_hash"].startswith("sha256:")
    patient = {**example_patient(HODGKIN), "patient_id": "kz-metrics-5150"}
    httpx.post(f"{server.url}/route", json=patient, headers=api_headers)
    httpx.post(
        f"{server.url}/fhir/PlanDefinition/kz-metrics-5150/$apply", json={}, headers=api_headers
    )
    text = httpx.get(f"{server.url}/metrics").text
    assert 'pedonc_http_requests_total{method="POST",route="/route",status="200"}' in text
    assert 'route="/fhir/PlanDefinition/{plan_id}/$apply"' in text
    assert 'pedonc_decisions_total{status="routed"}' in text
    assert "pedonc_audit_write_duration_seconds_bucket" in text
    assert "kz-metrics-5150" not in text
    document = httpx.get(f"{server.url}/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "/route" in document["paths"]
    assert "PatientState" in document["components"]["schemas"]


def test_cors_is_off_by_default(server: ServerProcess) -> None:
    response = httpx.options(
        f"{server.url}/route",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_plan_definition_apply_returns_the_care_plan_proposal(
    server: ServerProcess, api_headers: dict[str, str], shipped_bundle: pr.Bundle
) -> None:
    patient = example_patient(HODGKIN)
    fhir_bundle = patient_to_fhir(patient)
    state = patient_from_fhir(fhir_bundle)
    response = httpx.post(
        f"{server.url}/fhir/PlanDefinition/hodgkin-lymphoma/$apply",
        json=fhir_bundle,
        headers=api_headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    proposal = response.json()
    assert (proposal["resourceType"], proposal["intent"]) == ("CarePlan", "proposal")
    assert "RequestGroup" in [r["resourceType"] for r in proposal["contained"]]
    assert proposal == decision_to_proposal(shipped_bundle.route(state), state)
    as_parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "data", "resource": fhir_bundle}],
    }
    again = httpx.post(
        f"{server.url}/fhir/PlanDefinition/hodgkin_lymphoma/$apply",
        json=as_parameters,
        headers=api_headers,
    )
    assert again.status_code == 200
    assert again.json() == proposal


@pytest.mark.parametrize(
    ("plan", "body", "status"),
    [
        ("no-such-plan", {"resourceType": "Bundle", "type": "collection"}, 404),
        ("all", {"resourceType": "Patient"}, 422),
        ("all", {"resourceType": "Bundle", "type": "collection"}, 422),
    ],
)
def test_plan_definition_apply_errors_are_operation_outcomes(
    server: ServerProcess, api_headers: dict[str, str], plan: str, body: dict[str, Any], status: int
) -> None:
    response = httpx.post(
        f"{server.url}/fhir/PlanDefinition/{plan}/$apply", json=body, headers=api_headers
    )
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_family_guide_in_each_language(
    server: ServerProcess, api_headers: dict[str, str], lang: str
) -> None:
    page = httpx.get(f"{server.url}/family?lang={lang}")
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    patient = {**example_patient(HODGKIN), "patient_id": "kz-family-2288"}
    guide = httpx.post(f"{server.url}/family?lang={lang}", json=patient, headers=api_headers)
    assert guide.status_code == 200
    assert guide.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in guide.text
    assert "kz-family-2288" not in guide.text
    from_fhir = httpx.post(
        f"{server.url}/family?lang={lang}", json=patient_to_fhir(patient), headers=api_headers
    )
    assert from_fhir.status_code == 200
    assert "<h1>" in from_fhir.text


def test_family_guide_link_with_a_forged_token_is_refused(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/family?lang=ru&token=gAAAAAforged")
    assert response.status_code == 410
    assert "ru" in response.text


def test_admin_reload_needs_the_admin_key(
    server: ServerProcess, api_headers: dict[str, str]
) -> None:
    assert httpx.post(f"{server.url}/admin/reload", headers=api_headers).status_code == 401
    response = httpx.post(
        f"{server.url}/admin/reload", headers={"X-API-Key": ADMIN_KEY}, timeout=60
    )
    assert response.status_code == 200
    assert response.json()["status"] == "reloaded"
