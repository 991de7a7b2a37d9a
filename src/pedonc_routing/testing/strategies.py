"""Every hypothesis strategy of the toolkit in one import, for tests that want them all.

The strategies live in :mod:`.patients` (valid children of a bundle: :func:`patients`,
:func:`value_strategy`, :func:`guard_constants`, :data:`AS_OF`; importing it registers
``st.from_type(PatientState)``) and :mod:`.bundles` (the shipped bundle and generated ones,
built in memory: :func:`protocols`, :func:`bundles`, :func:`build_bundle`,
:func:`shipped_bundle`). This module only re-exports them.
"""

from __future__ import annotations

from pedonc_routing.testing.bundles import build_bundle, bundles, protocols, shipped_bundle
from pedonc_routing.testing.patients import AS_OF, guard_constants, patients, value_strategy

__all__ = [
    "AS_OF",
    "build_bundle",
    "bundles",
    "guard_constants",
    "patients",
    "protocols",
    "shipped_bundle",
    "value_strategy",
]
