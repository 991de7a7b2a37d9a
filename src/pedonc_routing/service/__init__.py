"""``pedonc-routing serve``: the library as a stateless HTTP service (docs/service.md).

    settings --create_app--> Starlette app (JSON API, CDS Hooks 2.0, FHIR $apply,
    family guide, health, metrics) --server.serve--> uvicorn, N workers

Modules: ``settings`` (one frozen object per service), ``app`` (the handlers),
``audit`` (SQLite / PostgreSQL decision records), ``cds_hooks`` and ``cds_auth`` (hooks,
cards, JWT checks), ``limits`` and ``metrics`` (ASGI middleware), ``openapi``,
``family_links`` and ``family_page`` (the guide behind a card's link), ``server``.
Needs the ``service`` extra: ``pip install 'pedonc-routing[service]'``.
"""

from pedonc_routing.service.settings import ServiceSettings

__all__ = ["ServiceSettings"]
