"""The ASGI application: JSON API, CDS Hooks, FHIR ``$apply``, family guide, operations.

    request --MetricsMiddleware--> --LimitsMiddleware (size, time)--> route handler
        handler: authenticate --> read the patient --> Router's current bundle .route()
                 --> audit store commit (in a thread) --> response

A decision leaves the service only after its audit record is committed. The app holds no
state besides the audit store: the bundle is read from the protocol folder at start and on
reload, so any number of workers and instances can serve behind a load balancer.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pedonc_routing.bundle import Bundle, load_bundle
from pedonc_routing.decision.model import Decision
from pedonc_routing.errors import (
    EngineError,
    PatientDataError,
    PedoncRoutingError,
    ValidationFailed,
)
from pedonc_routing.interop.fhir import decision_to_proposal, patient_from_fhir
from pedonc_routing.interop.fhir.codes import fhir_id
from pedonc_routing.model.documents import Language
from pedonc_routing.model.patient import PatientState
from pedonc_routing.render.family import build_family_guide, guide_html, input_titles
from pedonc_routing.router import Router
from pedonc_routing.service import cds_hooks, metrics
from pedonc_routing.service.audit import AuditStore, open_audit_store
from pedonc_routing.service.cds_auth import AuthenticationFailed, CdsTokenVerifier
from pedonc_routing.service.family_links import FamilyLinks
from pedonc_routing.service.family_page import form_page
from pedonc_routing.service.limits import LimitsMiddleware
from pedonc_routing.service.openapi import openapi_document
from pedonc_routing.service.settings import ServiceSettings, hash_key

#: Operational events (reloads, audit store failures) at WARNING and above reach uvicorn's
#: stderr without extra logging set-up; never a patient identifier.
logger = logging.getLogger("pedonc_routing.service")

LANGUAGES: tuple[Language, ...] = ("en", "ru", "kk")
BATCH_PATH = "/route/batch"
#: The longest JSON line /route/batch accepts (the single-patient body limit).
_NDJSON = "application/x-ndjson"


class AuditUnavailable(Exception):
    """The audit record could not be committed, so the decision is not returned."""


class _BadRequest(Exception):
    def __init__(self, status: int, error: str, problems: list[str]) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, problems

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "problems": self.problems}, self.status)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes, where: str = "body") -> Any:
    """JSON text, or a 400 naming the position (never quoting the text)."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise _BadRequest(
            400,
            "invalid_json",
            [f"{where}: not valid JSON (line {error.lineno} column {error.colno})"],
        ) from None
    except UnicodeDecodeError:
        raise _BadRequest(400, "invalid_json", [f"{where}: not UTF-8"]) from None
    except ValueError as error:  # NaN / Infinity
        raise _BadRequest(400, "invalid_json", [f"{where}: {error}"]) from None
    except RecursionError:
        raise _BadRequest(400, "invalid_json", [f"{where}: JSON nested too deeply"]) from None


def _language(request: Request) -> Language:
    lang = request.query_params.get("lang", "en")
    for known in LANGUAGES:
        if lang == known:
            return known
    raise _BadRequest(400, "invalid_parameter", ["lang: must be one of en, ru, kk"])


def _patient_id(patient: Any) -> str | None:
    if isinstance(patient, PatientState):
        return patient.patient_id
    if isinstance(patient, Mapping):
        value = patient.get("patient_id")
        return value if isinstance(value, str) else None
    return None


class RoutingService:
    """The handlers and the little they share: the router, the audit store, the keys."""

    def __init__(self, settings: ServiceSettings, store: AuditStore, bundle: Bundle) -> None:
        self.settings = settings
        self.store = store
        self.router = Router(bundle, require_approved=settings.require_approved)
        self._api_keys = tuple(bytes.fromhex(value) for value in settings.api_key_hashes)
        self._admin_keys = tuple(bytes.fromhex(value) for value in settings.admin_key_hashes)
        secret = bytes.fromhex(settings.audit_key)
        self.family_links = FamilyLinks(secret)
        self.verifier = CdsTokenVerifier(
            settings.cds_issuers, settings.jti_window_seconds, store.claim_token_id
        )
        self._versions: dict[str, dict[str, str]] = {}
        self._titles: dict[str, dict[str, dict[str, str]]] = {}

    # -- shared steps ------------------------------------------------------------------------

    def _key_matches(self, request: Request, accepted: tuple[bytes, ...]) -> bool:
        given = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        if given is None and authorization.startswith("Bearer "):
            given = authorization.removeprefix("Bearer ")
        if not given:
            return False
        digest = bytes.fromhex(hash_key(given))
        # Compare with every key (no early exit), each in constant time.
        return sum(hmac.compare_digest(digest, key) for key in accepted) > 0

    def _require_api_key(self, request: Request) -> None:
        if self.settings.allow_anonymous:
            return
        if not self._key_matches(request, self._api_keys):
            raise _BadRequest(401, "unauthorized", ["an API key is required (X-API-Key)"])

    def _protocol_versions(self, bundle: Bundle) -> dict[str, str]:
        versions = self._versions.get(bundle.content_hash)
        if versions is None:
            versions = {pid: bundle.protocol(pid).version for pid in bundle.protocol_ids}
            self._versions = {bundle.content_hash: versions}  # only the current bundle's
        return versions

    async def decide(
        self,
        patient: PatientState | Mapping[str, Any],
        lang: Language,
        bundle: Bundle | None = None,
    ) -> tuple[Decision, dict[str, Any], int]:
        """Route on ``bundle`` (default: the current one) and commit the audit record;
        PatientDataError propagates. Returns the decision, its JSON and the record id."""
        if bundle is None:
            bundle = self.router.bundle  # one read: the decision and its record use it
        decision = bundle.route(patient, lang=lang)
        data = decision.to_dict()
        started = asyncio.get_running_loop().time()
        try:
            record_id = await anyio.to_thread.run_sync(
                self.store.record,
                _patient_id(patient),
                bundle.content_hash,
                self._protocol_versions(bundle),
                data,
            )
        except Exception as error:
            # The type only: a database error's text may quote the row, patient key included.
            logger.error("audit store write failed (%s): decision withheld", type(error).__name__)
            raise AuditUnavailable from None
        metrics.AUDIT_WRITES.observe(asyncio.get_running_loop().time() - started)
        metrics.DECISIONS.labels(decision.status).inc()
        return decision, data, record_id

    # -- JSON API ----------------------------------------------------------------------------

    async def route(self, request: Request) -> Response:
        try:
            self._require_api_key(request)
            lang = _language(request)
            patient = parse_json(await request.body())
            if not isinstance(patient, dict):
                raise _BadRequest(422, "patient_data", ["body: expected a JSON object"])
            _, data, record_id = await self.decide(patient, lang)
        except _BadRequest as error:
            return error.response()
        except PatientDataError as error:
            return JSONResponse({"error": "patient_data", "problems": error.problems}, 422)
        return JSONResponse(data, headers={"Audit-Record": str(record_id)})

    async def route_batch(self, request: Request) -> Response:
        try:
            self._require_api_key(request)
            lang = _language(request)
            # Read in full (within the batch size limit) before answering: Starlette's
            # streaming response listens on the same receive channel for a disconnect.
            body = await request.body()
        except _BadRequest as error:
            return error.response()
        return StreamingResponse(self._batch_lines(body, lang), media_type=_NDJSON)

    async def _batch_lines(self, body: bytes, lang: Language) -> AsyncIterator[str]:
        """One output line per non-blank input line, in order, each sent when decided; a
        line that cannot be routed gives an error line with its line number instead of
        stopping the batch."""
        for number, line in enumerate(body.split(b"\n"), start=1):
            if not line.strip():
                continue
            if len(line) > self.settings.max_body_bytes:
                yield (
                    json.dumps(
                        {
                            "error": "too_large",
                            "line": number,
                            "problems": [
                                f"line {number}: longer than {self.settings.max_body_bytes} bytes"
                            ],
                        }
                    )
                    + "\n"
                )
                continue
            yield await self._batch_line(line, number, lang)

    async def _batch_line(self, line: bytes, number: int, lang: Language) -> str:
        try:
            patient = parse_json(line, f"line {number}")
            if not isinstance(patient, dict):
                raise _BadRequest(422, "patient_data", [f"line {number}: expected a JSON object"])
            _, data, record_id = await self.decide(patient, lang)
        except _BadRequest as error:
            return (
                json.dumps({"error": error.error, "line": number, "problems": error.problems})
                + "\n"
            )
        except PatientDataError as error:
            failure = {"error": "patient_data", "line": number, "problems": error.problems}
            return json.dumps(failure, ensure_ascii=False) + "\n"
        except AuditUnavailable:
            return json.dumps({"error": "audit_unavailable", "line": number}) + "\n"
        except EngineError:
            return json.dumps({"error": "engine", "line": number}) + "\n"
        return json.dumps({**data, "audit_record": record_id}, ensure_ascii=False) + "\n"

    # -- FHIR $apply -------------------------------------------------------------------------

    async def apply_plan_definition(self, request: Request) -> Response:
        try:
            self._require_api_key(request)
            plan_id = request.path_params["plan_id"]
            bundle = self.router.bundle
            known = {fhir_id(pid): pid for pid in bundle.protocol_ids}
            if plan_id not in known and plan_id not in bundle.protocol_ids:
                return _outcome(404, "not-found", f"no PlanDefinition {plan_id!r} in this bundle")
            body = parse_json(await request.body())
            data_bundle = _apply_data(body)
            patient = patient_from_fhir(data_bundle)
            decision, _, record_id = await self.decide(patient, "en", bundle)
        except _BadRequest as error:
            return _outcome(error.status, "invalid", "; ".join(error.problems))
        except PatientDataError as error:
            return _outcome(422, "invalid", "; ".join(error.problems))
        return JSONResponse(
            decision_to_proposal(decision, patient),
            headers={"Audit-Record": str(record_id)},
            media_type="application/fhir+json",
        )

    # -- family guide ------------------------------------------------------------------------

    async def family_get(self, request: Request) -> Response:
        try:
            lang = _language(request)
        except _BadRequest as error:
            return error.response()
        token = request.query_params.get("token")
        if token is None:
            return HTMLResponse(form_page(lang))
        state = self.family_links.open(token)
        if state is None:
            return HTMLResponse(form_page(lang, expired=True), 410)
        return await self._family_html(state, lang)

    async def family_post(self, request: Request) -> Response:
        try:
            self._require_api_key(request)
            lang = _language(request)
            body = parse_json(await request.body())
            if isinstance(body, dict) and body.get("resourceType") == "Bundle":
                patient: PatientState | dict[str, Any] = patient_from_fhir(body)
            elif isinstance(body, dict):
                patient = body
            else:
                raise _BadRequest(422, "patient_data", ["body: expected a JSON object"])
        except _BadRequest as error:
            return error.response()
        except PatientDataError as error:
            return JSONResponse({"error": "patient_data", "problems": error.problems}, 422)
        return await self._family_html(patient, lang)

    async def _family_html(
        self, patient: PatientState | Mapping[str, Any], lang: Language
    ) -> Response:
        try:
            # The guide states the decision, so it is audited like any other, and both use
            # the same bundle even if a reload lands in between.
            bundle = self.router.bundle
            await self.decide(patient, lang, bundle)
            guide = build_family_guide(bundle, patient, lang)
        except PatientDataError as error:
            return JSONResponse({"error": "patient_data", "problems": error.problems}, 422)
        return HTMLResponse(guide_html(guide))

    # -- CDS Hooks ---------------------------------------------------------------------------

    async def cds_discovery(self, request: Request) -> Response:
        return JSONResponse(cds_hooks.discovery())

    def _service_url(self, service_id: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/cds-services/{service_id}"

    def _authenticate_ehr(self, request: Request, service_id: str) -> Response | None:
        try:
            self.verifier.verify(
                request.headers.get("authorization"), self._service_url(service_id)
            )
        except AuthenticationFailed as error:
            return JSONResponse({"error": "unauthorized", "message": str(error)}, 401)
        return None

    async def cds_service(self, request: Request) -> Response:
        service_id = request.path_params["service_id"]
        hook = cds_hooks.hook_of(service_id)
        if hook is None:
            return JSONResponse({"error": "not_found", "message": "no such CDS service"}, 404)
        refused = await anyio.to_thread.run_sync(self._authenticate_ehr, request, service_id)
        if refused is not None:
            return refused
        try:
            lang = _language(request)
            body = parse_json(await request.body())
            fhir_bundle = cds_hooks.prefetch_bundle(hook, body, cds_hooks.now())
            patient = patient_from_fhir(fhir_bundle)
            _, data, record_id = await self.decide(patient, lang)
        except _BadRequest as error:
            return error.response()
        except cds_hooks.HookRequestError as error:
            return JSONResponse({"error": "invalid_request", "message": str(error)}, error.status)
        except PatientDataError as error:
            return JSONResponse({"cards": [cds_hooks.data_problem_card(error.problems)]})
        family_url = (
            f"{self.settings.public_url.rstrip('/')}/family?lang={lang}"
            f"&token={self.family_links.seal(patient.model_dump(mode='json'))}"
        )
        cards = cds_hooks.decision_cards(data, self._input_titles(lang), family_url, lang)
        return JSONResponse({"cards": cards}, headers={"Audit-Record": str(record_id)})

    def _input_titles(self, lang: Language) -> dict[str, str]:
        bundle = self.router.bundle
        cached = self._titles.get(bundle.content_hash)
        if cached is None:
            titles = input_titles(bundle)
            cached = {
                language: {name: text.get(language) or text.en for name, text in titles.items()}
                for language in LANGUAGES
            }
            self._titles = {bundle.content_hash: cached}
        return cached[lang]

    async def cds_feedback(self, request: Request) -> Response:
        service_id = request.path_params["service_id"]
        if cds_hooks.hook_of(service_id) is None:
            return JSONResponse({"error": "not_found", "message": "no such CDS service"}, 404)
        refused = await anyio.to_thread.run_sync(self._authenticate_ehr, request, service_id)
        if refused is not None:
            return refused
        try:
            body = parse_json(await request.body())
            outcomes = cds_hooks.feedback_outcomes(body)
        except _BadRequest as error:
            return error.response()
        except cds_hooks.HookRequestError as error:
            return JSONResponse({"error": "invalid_request", "message": str(error)}, 400)
        for outcome in outcomes:
            metrics.FEEDBACK.labels(outcome).inc()
        return Response(status_code=200)

    # -- operations --------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        try:
            await anyio.to_thread.run_sync(self.store.check)
        except Exception as error:
            logger.warning("audit store not ready: %s", type(error).__name__)
            return JSONResponse({"status": "unavailable", "reason": "audit store"}, 503)
        bundle = self.router.bundle
        return JSONResponse(
            {"status": "ready", "bundle_hash": bundle.content_hash, "engine": bundle.engine}
        )

    async def metrics_text(self, request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    async def openapi(self, request: Request) -> Response:
        bundle = self.router.bundle
        plan_ids = tuple(fhir_id(protocol_id) for protocol_id in bundle.protocol_ids)
        return JSONResponse(openapi_document(self.settings.public_url, plan_ids))

    async def admin_reload(self, request: Request) -> Response:
        if not self._key_matches(request, self._admin_keys):
            return JSONResponse(
                {"error": "unauthorized", "problems": ["an admin key is required"]}, 401
            )
        try:
            bundle = await self.reload()
        except ValidationFailed as failure:
            errors = [str(issue) for issue in failure.issues if issue.severity == "error"]
            return JSONResponse({"error": "invalid_bundle", "problems": errors}, 422)
        except PedoncRoutingError as error:
            return JSONResponse({"error": "invalid_bundle", "problems": [str(error)]}, 422)
        if self.settings.reload_signals_parent:
            os.kill(os.getppid(), signal.SIGHUP)  # the supervisor passes it to every worker
        return JSONResponse({"status": "reloaded", "bundle_hash": bundle.content_hash})

    async def reload(self) -> Bundle:
        """Load, validate and swap in the protocol folder; the old bundle keeps serving
        until the swap, and after a refusal."""
        try:
            bundle = await anyio.to_thread.run_sync(self.router.reload, self.settings.protocols)
        except Exception:
            metrics.RELOADS.labels("refused").inc()
            raise
        metrics.RELOADS.labels("swapped").inc()
        logger.warning("worker %d: bundle swapped to %s", os.getpid(), bundle.content_hash)
        return bundle

    async def reload_on_signal(self) -> None:
        try:
            await self.reload()
        except Exception as error:
            logger.error(
                "reload refused (%s): the previous bundle keeps serving", type(error).__name__
            )


def _apply_data(body: Any) -> Mapping[str, Any]:
    """The patient Bundle of ``$apply``: the body itself, or the ``data`` parameter of a
    Parameters resource (as in the CPG ``$apply`` operation)."""
    if isinstance(body, Mapping) and body.get("resourceType") == "Bundle":
        return body
    if isinstance(body, Mapping) and body.get("resourceType") == "Parameters":
        for parameter in body.get("parameter") or []:
            if isinstance(parameter, Mapping) and parameter.get("name") == "data":
                resource = parameter.get("resource")
                if isinstance(resource, Mapping) and resource.get("resourceType") == "Bundle":
                    return resource
        raise _BadRequest(
            422, "invalid", ["Parameters: a 'data' parameter with a Bundle is required"]
        )
    raise _BadRequest(422, "invalid", ["body: a Bundle or a Parameters resource is required"])


async def _audit_unavailable(request: Request, error: Exception) -> Response:
    message = "the decision could not be recorded in the audit store, so it is withheld; retry"
    return JSONResponse({"error": "audit_unavailable", "message": message}, 503)


async def _engine_failed(request: Request, error: Exception) -> Response:
    logger.error("engine error: %s", type(error).__name__)
    return JSONResponse({"error": "engine", "message": "the rules engine failed; retry"}, 503)


def _outcome(status: int, code: str, diagnostics: str) -> JSONResponse:
    return JSONResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
        },
        status,
        media_type="application/fhir+json",
    )


def create_app(
    settings: ServiceSettings, *, store: AuditStore | None = None, bundle: Bundle | None = None
) -> Starlette:
    """The application for ``settings``; loads the bundle and opens the audit store."""
    audit = (
        store
        if store is not None
        else open_audit_store(
            settings.audit_url,
            bytes.fromhex(settings.audit_key),
            group_commit=settings.audit_group_commit,
        )
    )
    service = RoutingService(
        settings,
        audit,
        bundle
        if bundle is not None
        else load_bundle(settings.protocols, require_approved=settings.require_approved),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()

        def on_hangup() -> None:
            task = loop.create_task(service.reload_on_signal())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        loop.add_signal_handler(signal.SIGHUP, on_hangup)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
            audit.close()

    routes = [
        Route("/route", service.route, methods=["POST"]),
        Route(BATCH_PATH, service.route_batch, methods=["POST"]),
        Route(
            "/fhir/PlanDefinition/{plan_id}/$apply", service.apply_plan_definition, methods=["POST"]
        ),
        Route("/family", service.family_get, methods=["GET"]),
        Route("/family", service.family_post, methods=["POST"]),
        Route("/cds-services", service.cds_discovery, methods=["GET"]),
        Route("/cds-services/{service_id}", service.cds_service, methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", service.cds_feedback, methods=["POST"]),
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/readyz", service.readyz, methods=["GET"]),
        Route("/metrics", service.metrics_text, methods=["GET"]),
        Route("/openapi.json", service.openapi, methods=["GET"]),
        Route("/admin/reload", service.admin_reload, methods=["POST"]),
    ]
    middleware = [
        Middleware(metrics.MetricsMiddleware),
        Middleware(
            LimitsMiddleware,
            max_body_bytes=settings.max_body_bytes,
            timeout_seconds=settings.request_timeout_seconds,
            batch_path=BATCH_PATH,
            max_batch_bytes=settings.max_batch_bytes,
            batch_timeout_seconds=settings.batch_timeout_seconds,
        ),
    ]
    if settings.cors_origins:  # off unless origins are named
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={AuditUnavailable: _audit_unavailable, EngineError: _engine_failed},
    )
    app.state.service = service
    return app


def create_app_from_environment() -> Starlette:
    """The uvicorn factory used by ``serve``: settings from ``PEDONC_SERVICE_SETTINGS``."""
    return create_app(ServiceSettings.from_environment())
