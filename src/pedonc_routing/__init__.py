"""pedonc_routing: executable, verifiable pediatric oncology care pathways.

The pipeline, one subpackage per stage::

    YAML files --loader--> plain data + source map --model--> pydantic documents
               --validation--> issues (FILE:LINE:COL CODE)   --compiler--> pathway graphs,
               facility network, guard tables --engine--> durable-rules (or reference)
               evaluation + the walker --decision--> Decision (what next, where, who, why)

Use::

    import pedonc_routing as pr
    bundle = pr.load_bundle()            # the shipped protocols
    decision = bundle.route(patient)     # a mapping shaped as docs/patient-state.md
    decision.to_dict()
"""

from pedonc_routing._version import __version__
from pedonc_routing.bundle import Bundle, iter_issues, load_bundle, validate
from pedonc_routing.decision.model import Decision
from pedonc_routing.errors import (
    ApprovalRequired,
    EngineError,
    PatientDataError,
    PedoncRoutingError,
    UnknownLanguageError,
    UnknownProtocolError,
    ValidationFailed,
)
from pedonc_routing.issues import Issue, ValidationReport
from pedonc_routing.model.patient import PatientState
from pedonc_routing.router import Router

__all__ = [
    "ApprovalRequired",
    "Bundle",
    "Decision",
    "EngineError",
    "Issue",
    "PatientDataError",
    "PatientState",
    "PedoncRoutingError",
    "Router",
    "UnknownLanguageError",
    "UnknownProtocolError",
    "ValidationFailed",
    "ValidationReport",
    "__version__",
    "iter_issues",
    "load_bundle",
    "validate",
]
