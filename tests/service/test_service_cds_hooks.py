"""CDS Hooks 2.0 on a real server: discovery, patient-view and encounter-start with prefetch,
cards, feedback; requests and responses validated against the CDS Hooks 2.0 schema written
from the specification's logical model; the JWT rules, each negative case refused."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import pedonc_routing as pr
from pedonc_routing.interop.fhir import patient_from_fhir, patient_to_fhir
from service.server_process import ServerProcess
from service.service_examples import example_patient

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "cds-hooks-2.0.schema.json").read_text(encoding="utf-8")
)
ISSUER = "https://ehr.hospital.example"
URL_ISSUER = "https://his.oblast.example"
SERVICE = "pedonc-routing-patient-view"
PRIVATE = ec.generate_private_key(ec.SECP384R1())
URL_PRIVATE = ec.generate_private_key(ec.SECP384R1())


def _validate(kind: str, instance: Any) -> None:
    validator = jsonschema.Draft202012Validator(
        {**SCHEMA, "$ref": f"#/$defs/{kind}"}, format_checker=jsonschema.FormatChecker()
    )
    validator.validate(instance)


def _jwks(private: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "ES384"}]}


class _JwksHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The second issuer's JWKS, published over HTTP on 127.0.0.1 like an EHR's."""
    _JwksHandler.body = json.dumps(_jwks(URL_PRIVATE, "his-1")).encode()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
    httpd.shutdown()


@pytest.fixture(scope="module")
def cds_server(tmp_path_factory: pytest.TempPathFactory, jwks_url: str) -> Iterator[ServerProcess]:
    issuers = {ISSUER: {"jwks": _jwks(PRIVATE, "ehr-1")}, URL_ISSUER: {"jwks_url": jwks_url}}
    process = ServerProcess(
        tmp_path_factory.mktemp("cds"), issuers=issuers, extra=["--jti-window", "300"]
    )
    yield process
    process.stop()


def token(
    server: ServerProcess,
    service: str = SERVICE,
    *,
    issuer: str = ISSUER,
    private: Any = PRIVATE,
    kid: str = "ehr-1",
    audience: str | None = None,
    lifetime: int = 60,
    issued: float | None = None,
    jti: str | None = None,
    algorithm: str = "ES384",
) -> str:
    now = issued if issued is not None else time.time()
    claims = {
        "iss": issuer,
        "sub": "client-1",
        "aud": audience if audience is not None else f"{server.url}/cds-services/{service}",
        "exp": int(now + lifetime),
        "iat": int(now),
        "jti": jti or str(uuid.uuid4()),
    }
    return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": kid})


def hook_request(patient: dict[str, Any], hook: str = "patient-view") -> dict[str, Any]:
    """The EHR's request: the child's FHIR resources in the discovery's prefetch keys."""
    bundle = patient_to_fhir(patient)
    # As an EHR's FHIR server answers: the Patient has its id, and the other resources refer
    # to it as Patient/ID (patient_to_fhir's urn:uuid references only resolve inside its
    # own Bundle, and a CDS prefetch Patient is a bare resource with no fullUrl).
    child = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient_id = child["resource"].setdefault("id", "p1")
    text = json.dumps(bundle).replace(f'"{child["fullUrl"]}"', f'"Patient/{patient_id}"')
    resources = [entry["resource"] for entry in json.loads(text)["entry"]]
    searches = {
        "conditions": "Condition",
        "observations": "Observation",
        "medicationAdministrations": "MedicationAdministration",
        "procedures": "Procedure",
        "carePlans": "CarePlan",
    }
    prefetch: dict[str, Any] = {
        "patient": next(r for r in resources if r["resourceType"] == "Patient")
    }
    for key, kind in searches.items():
        matches = [r for r in resources if r["resourceType"] == kind]
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "entry": [{"resource": r} for r in matches],
        }
    context = {"userId": "Practitioner/77", "patientId": prefetch["patient"].get("id", "p1")}
    if hook == "encounter-start":
        context["encounterId"] = "enc-1"
    request = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://fhir.hospital.example/r4",
        "context": context,
        "prefetch": prefetch,
    }
    _validate("request", request)
    return request


def call(
    server: ServerProcess,
    request: dict[str, Any],
    bearer: str | None,
    service: str = SERVICE,
    lang: str = "en",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx.post(
        f"{server.url}/cds-services/{service}?lang={lang}",
        json=request,
        headers=headers,
        timeout=30,
    )


def test_discovery_lists_both_hooks_with_prefetch_templates(cds_server: ServerProcess) -> None:
    discovery = httpx.get(f"{cds_server.url}/cds-services").json()
    _validate("discoveryResponse", discovery)
    hooks = {service["hook"]: service for service in discovery["services"]}
    assert set(hooks) == {"patient-view", "encounter-start"}
    prefetch = hooks["patient-view"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    for kind in ("Condition", "Observation", "MedicationAdministration", "Procedure"):
        assert any(template.startswith(f"{kind}?patient=") for template in prefetch.values())


def test_patient_view_card_has_the_next_step_facility_and_family_link(
    cds_server: ServerProcess, shipped_bundle: pr.Bundle
) -> None:
    patient = example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml")
    request = hook_request(patient)
    response = call(cds_server, request, token(cds_server))
    assert response.status_code == 200, response.text
    body = response.json()
    _validate("response", body)
    [card] = body["cards"]
    state = patient_from_fhir(
        patient_to_fhir(patient), as_of=pr.PatientState.model_validate(patient).as_of
    )
    decision = shipped_bundle.route(state)
    assert decision.step is not None
    assert decision.facility is not None
    assert decision.step.title in card["summary"]
    assert decision.facility.name in card["detail"]
    assert card["indicator"] == "warning"  # urgent
    [link] = card["links"]
    guide = httpx.get(link["url"].replace("http://127.0.0.1", "http://127.0.0.1"))
    assert guide.status_code == 200
    assert '<html lang="en">' in guide.text
    assert patient.get("patient_id", "~none~") not in link["url"]


@pytest.mark.parametrize(
    ("example", "indicator"),
    [
        ("12_hyperleukocytosis.yaml", "critical"),
        ("burkitt_lymphoma/03_stage_iii_tls.yaml", "critical"),
    ],
)
def test_emergencies_are_critical_cards(
    cds_server: ServerProcess, example: str, indicator: str
) -> None:
    response = call(cds_server, hook_request(example_patient(example)), token(cds_server))
    _validate("response", response.json())
    assert [card["indicator"] for card in response.json()["cards"]] == [indicator]


def test_needs_data_card_names_the_missing_data(cds_server: ServerProcess) -> None:
    patient = example_patient("burkitt_lymphoma/02_needs_stage_and_ldh.yaml")
    response = call(cds_server, hook_request(patient), token(cds_server), lang="ru")
    body = response.json()
    _validate("response", body)
    [card] = body["cards"]
    assert card["indicator"] == "warning"
    assert "`ldh_uln_ratio`" in card["detail"]
    assert "`murphy_stage`" in card["detail"]


def test_encounter_start_needs_the_encounter_in_context(cds_server: ServerProcess) -> None:
    service = "pedonc-routing-encounter-start"
    patient = example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml")
    request = hook_request(patient, "encounter-start")
    ok = call(cds_server, request, token(cds_server, service), service)
    assert ok.status_code == 200
    _validate("response", ok.json())
    del request["context"]["encounterId"]
    bad = call(cds_server, request, token(cds_server, service), service)
    assert bad.status_code == 400
    assert "encounterId" in bad.json()["message"]


def test_prefetch_without_the_patient_is_412(cds_server: ServerProcess) -> None:
    request = hook_request(example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml"))
    del request["prefetch"]["patient"]
    assert call(cds_server, request, token(cds_server)).status_code == 412


def test_unreadable_chart_data_is_a_card_without_identifiers(cds_server: ServerProcess) -> None:
    patient = {
        **example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml"),
        "patient_id": "kzpid5521",
    }
    request = hook_request(patient)
    request["prefetch"]["observations"]["entry"][0]["resource"]["valueQuantity"] = {
        "value": 12,
        "unit": "furlong",
        "system": "http://unitsofmeasure.org",
        "code": "furlong",
    }
    response = call(cds_server, request, token(cds_server))
    assert response.status_code == 200
    _validate("response", response.json())
    assert "kzpid5521" not in response.text


def test_feedback_is_accepted_and_validated(cds_server: ServerProcess) -> None:
    feedback = {
        "feedback": [
            {
                "card": str(uuid.uuid4()),
                "outcome": "accepted",
                "outcomeTimestamp": "2026-12-06T10:00:00Z",
            }
        ]
    }
    _validate("feedback", feedback)
    url = f"{cds_server.url}/cds-services/{SERVICE}/feedback"
    audience = f"{cds_server.url}/cds-services/{SERVICE}"
    headers = {"Authorization": f"Bearer {token(cds_server, audience=audience)}"}
    assert httpx.post(url, json=feedback, headers=headers).status_code == 200
    headers = {"Authorization": f"Bearer {token(cds_server, audience=audience)}"}
    assert (
        httpx.post(url, json={"feedback": [{"outcome": "maybe"}]}, headers=headers).status_code
        == 400
    )
    assert httpx.post(url, json=feedback).status_code == 401
    assert (
        'pedonc_cds_feedback_total{outcome="accepted"}'
        in httpx.get(f"{cds_server.url}/metrics").text
    )


def test_a_key_from_the_issuers_published_jwks_url_is_accepted(cds_server: ServerProcess) -> None:
    request = hook_request(example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml"))
    bearer = token(cds_server, issuer=URL_ISSUER, private=URL_PRIVATE, kid="his-1")
    assert call(cds_server, request, bearer).status_code == 200


def _unsigned(server: ServerProcess) -> str:
    claims = jwt.decode(token(server), options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none")


def _hmac_with_public_key(server: ServerProcess) -> str:
    claims = jwt.decode(token(server), options={"verify_signature": False})
    return jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256!", algorithm="HS256")


NEGATIVE = {
    "missing": lambda server: None,
    "unsigned (alg none)": _unsigned,
    "HMAC, not asymmetric": _hmac_with_public_key,
    "not a JWT": lambda server: "not.a.jwt",
    "wrong issuer": lambda server: token(server, issuer="https://evil.example"),
    "right issuer name, wrong key": lambda server: token(
        server, private=ec.generate_private_key(ec.SECP384R1())
    ),
    "audience is the base URL": lambda server: token(server, audience=server.url),
    "audience is another service": lambda server: token(
        server, audience=f"{server.url}/cds-services/pedonc-routing-encounter-start"
    ),
    "expired": lambda server: token(server, issued=time.time() - 600, lifetime=60),
    "lives longer than the replay window": lambda server: token(server, lifetime=3600),
    "other issuer's key id": lambda server: token(server, issuer=URL_ISSUER, kid="ehr-1"),
}


REASONS = {
    "missing": "a Bearer JWT is required",
    "unsigned (alg none)": "asymmetric algorithm",
    "HMAC, not asymmetric": "asymmetric algorithm",
    "not a JWT": "not a JWT",
    "wrong issuer": "issuer is not trusted",
    "right issuer name, wrong key": "Signature verification failed",
    "audience is the base URL": "aud is not this CDS service's URL",
    "audience is another service": "aud is not this CDS service's URL",
    "expired": "expired",
    "lives longer than the replay window": "replay window",
    "other issuer's key id": "signing key",
}


@pytest.mark.parametrize("case", list(NEGATIVE))
def test_jwt_negative_cases_are_refused(cds_server: ServerProcess, case: str) -> None:
    request = hook_request(example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml"))
    response = call(cds_server, request, NEGATIVE[case](cds_server))
    assert response.status_code == 401, (case, response.text)
    assert REASONS[case] in response.json()["message"]
    assert "cards" not in response.json()


def test_a_replayed_token_is_refused(cds_server: ServerProcess) -> None:
    request = hook_request(example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml"))
    bearer = token(cds_server)
    assert call(cds_server, request, bearer).status_code == 200
    replay = call(cds_server, request, bearer)
    assert replay.status_code == 401
    assert "replay" in replay.json()["message"]
