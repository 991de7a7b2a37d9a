"""The OpenAPI 3.1 document (``GET /openapi.json``), built from the library's own models.

The patient state and the decision schemas are pydantic's, so the document cannot drift
from what ``/route`` accepts and returns; schemathesis fuzzes the service from it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pedonc_routing._version import __version__
from pedonc_routing.decision.model import Decision
from pedonc_routing.model.patient import PatientState
from pedonc_routing.service.cds_hooks import HOOKS

_REF = "#/components/schemas/{model}"


def _model_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (PatientState, Decision):
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_PROBLEMS = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
    },
    "required": ["error"],
}
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["en", "ru", "kk"], "default": "en"},
}
_SERVICE_ID = {
    "name": "service_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": list(HOOKS.values())},
}
_FHIR_RESOURCE = {"type": "object", "properties": {"resourceType": {"type": "string"}}}


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Not JSON, or a bad parameter",
        401: "Missing or wrong credentials",
        404: "Not found",
        410: "The link has expired",
        412: "The prefetch lacks the Patient",
        413: "The body is too large",
        422: "Invalid patient data: every problem, never the patient id",
        503: "Not ready, or over the time limit",
    }
    return {
        str(code): {"description": reasons[code], "content": _json(_PROBLEMS)} for code in codes
    }


@cache
def openapi_document(server_url: str, plan_ids: tuple[str, ...]) -> dict[str, Any]:
    """The document for a service at ``server_url`` whose bundle has these PlanDefinition
    ids (the protocols' ids as FHIR ids)."""
    api_key: list[dict[str, list[str]]] = [{"apiKey": []}]
    cds_jwt: list[dict[str, list[str]]] = [{"cdsJwt": []}]
    paths: dict[str, Any] = {
        "/route": {
            "post": {
                "summary": "Route one child: patient state JSON in, decision JSON out",
                "operationId": "route",
                "security": api_key,
                "parameters": [_LANG],
                "requestBody": {"required": True, "content": _json(_ref("PatientState"))},
                "responses": {
                    "200": {
                        "description": "The decision, committed to the audit store",
                        "headers": {"Audit-Record": {"schema": {"type": "string"}}},
                        "content": _json(_ref("Decision")),
                    },
                    **_errors(400, 401, 413, 422, 503),
                },
            }
        },
        "/route/batch": {
            "post": {
                "summary": "Route many children: JSON lines in, JSON lines out (streamed)",
                "operationId": "routeBatch",
                "security": api_key,
                "parameters": [_LANG],
                "requestBody": {
                    "required": True,
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "One line per input line: a decision or an error line",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    **_errors(400, 401, 413, 503),
                },
            }
        },
        "/fhir/PlanDefinition/{plan_id}/$apply": {
            "post": {
                "summary": "Apply a protocol's PlanDefinition to a patient Bundle",
                "operationId": "applyPlanDefinition",
                "security": api_key,
                "parameters": [
                    {
                        "name": "plan_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(plan_ids)},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/fhir+json": {"schema": _FHIR_RESOURCE}},
                },
                "responses": {
                    "200": {
                        "description": "A CarePlan proposal with a contained RequestGroup",
                        "content": {"application/fhir+json": {"schema": _FHIR_RESOURCE}},
                    },
                    **{
                        code: {
                            "description": "OperationOutcome",
                            "content": {"application/fhir+json": {"schema": _FHIR_RESOURCE}},
                        }
                        for code in ("400", "404", "422")
                    },
                    **_errors(401, 413, 503),
                },
            }
        },
        "/family": {
            "get": {
                "summary": "The family guide of a card link (token), or the entry page",
                "operationId": "familyGuideLink",
                "parameters": [
                    _LANG,
                    {
                        "name": "token",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "HTML",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "410": {
                        "description": "Expired link",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **_errors(400, 422),
                },
            },
            "post": {
                "summary": "The family guide (HTML, kk/ru/en) for a patient state or FHIR Bundle",
                "operationId": "familyGuide",
                "security": api_key,
                "parameters": [_LANG],
                "requestBody": {"required": True, "content": _json(_ref("PatientState"))},
                "responses": {
                    "200": {
                        "description": "HTML",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **_errors(400, 401, 413, 422, 503),
                },
            },
        },
        "/cds-services": {
            "get": {
                "summary": "CDS Hooks 2.0 discovery",
                "operationId": "cdsDiscovery",
                "responses": {
                    "200": {"description": "The services", "content": _json({"type": "object"})}
                },
            }
        },
        "/cds-services/{service_id}": {
            "post": {
                "summary": "Call a CDS Hooks service (patient-view, encounter-start)",
                "operationId": "cdsService",
                "security": cds_jwt,
                "parameters": [
                    _SERVICE_ID,
                    _LANG,
                ],
                "requestBody": {"required": True, "content": _json({"type": "object"})},
                "responses": {
                    "200": {"description": "Cards", "content": _json({"type": "object"})},
                    **_errors(400, 401, 404, 412, 413, 503),
                },
            }
        },
        "/cds-services/{service_id}/feedback": {
            "post": {
                "summary": "CDS Hooks feedback on cards",
                "operationId": "cdsFeedback",
                "security": cds_jwt,
                "parameters": [_SERVICE_ID],
                "requestBody": {"required": True, "content": _json({"type": "object"})},
                "responses": {
                    "200": {"description": "Recorded"},
                    **_errors(400, 401, 404, 413, 503),
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "operationId": "healthz",
                "responses": {
                    "200": {"description": "Alive", "content": _json({"type": "object"})}
                },
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: a bundle is loaded and the audit store answers",
                "operationId": "readyz",
                "responses": {
                    "200": {"description": "Ready", "content": _json({"type": "object"})},
                    **_errors(503),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "operationId": "metrics",
                "responses": {
                    "200": {
                        "description": "Prometheus text",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/admin/reload": {
            "post": {
                "summary": "Reload the protocol bundle (an invalid bundle is refused)",
                "operationId": "reload",
                "security": [{"adminKey": []}],
                "responses": {
                    "200": {"description": "Swapped", "content": _json({"type": "object"})},
                    **_errors(401, 422),
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pedonc_routing service",
            "version": __version__,
            "description": "Paediatric oncology care-pathway routing for hospital systems.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": _model_schemas(),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "adminKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "cdsJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
