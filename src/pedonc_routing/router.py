"""A long-lived router for hospital systems: atomic hot reload and an audit hook.

``Router.route`` reads the current bundle once per call, so a decision in flight finishes on
the bundle it started with while new calls use the new one; every decision records the
``bundle_hash`` it used. ``reload`` validates and compiles the new bundle *before* swapping:
a bundle that fails validation is refused and the old one keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from pedonc_routing.bundle import Bundle, PathArg, load_bundle
from pedonc_routing.decision.model import Decision
from pedonc_routing.engine import EngineName
from pedonc_routing.model.documents import Language
from pedonc_routing.model.patient import PatientState

logger = logging.getLogger("pedonc_routing.router")

DecisionHook = Callable[[Decision], None]


class Router:
    """Routes with the current bundle; swaps bundles atomically.

    Args:
        bundle: the bundle to start with (default: the shipped protocols).
        engine: engine for bundles this router loads.
        require_approved: production mode for every bundle this router loads: a bundle
            whose protocols are not all approved is refused (:class:`ApprovalRequired`).
        on_decision: called with every decision (e.g. to write the HIS audit log). The
            decision carries facts and rules, never the patient identifier. An exception
            in the hook is logged (its type only) and does not lose the decision.
    """

    def __init__(
        self,
        bundle: Bundle | None = None,
        *,
        engine: EngineName | None = None,
        on_decision: DecisionHook | None = None,
        require_approved: bool = False,
    ) -> None:
        self._engine = engine
        self._require_approved = require_approved
        self._bundle = (
            bundle
            if bundle is not None
            else load_bundle(engine=engine, require_approved=require_approved)
        )
        self._on_decision = on_decision
        self._reload_lock = threading.Lock()

    @property
    def bundle(self) -> Bundle:
        """The bundle new calls use."""
        return self._bundle

    def route(
        self, patient: PatientState | Mapping[str, Any], *, lang: Language = "en"
    ) -> Decision:
        bundle = self._bundle  # one read: the whole decision uses this bundle
        decision = bundle.route(patient, lang=lang)
        if self._on_decision is not None:
            try:
                self._on_decision(decision)
            except Exception as error:
                # The type only: the hook is the caller's code, and its message may carry
                # the caller's patient data, which must not reach our log.
                logger.error(
                    "on_decision hook raised %s (decision %s)",
                    type(error).__name__,
                    decision.status,
                )
        return decision

    def reload(self, paths: PathArg = None) -> Bundle:
        """Load, validate and compile ``paths``, then make it the current bundle.

        Raises :class:`~pedonc_routing.errors.ValidationFailed` when it does not validate
        (or :class:`~pedonc_routing.errors.ApprovalRequired` in production mode); the current
        bundle then keeps serving unchanged.
        """
        with self._reload_lock:  # one reload at a time; routing never waits on it
            new = load_bundle(paths, engine=self._engine, require_approved=self._require_approved)
            old = self._bundle
            self._bundle = new
        logger.info("bundle reloaded: %s -> %s", old.content_hash, new.content_hash)
        return new
