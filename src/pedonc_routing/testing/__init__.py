"""Tools for methodologists: prove things about a bundle, not just try examples.

- :mod:`.patients`: hypothesis strategies for valid patients of a bundle, biased to the
  guards' boundaries (importing it registers a strategy for ``PatientState``);
- :mod:`.bundles`: the shipped bundle, and strategies for generated protocols and bundles
  (built in memory);
- :mod:`.strategies`: both of the above in one import;
- :mod:`.properties`: ready-made properties (total, unique, deterministic, capable
  facility, timely, monotonic) raising :class:`~.properties.PropertyFailed`;
- :mod:`.stateful`: a hypothesis state machine walking children through a bundle's pathways;
- :mod:`.invariants`: authors' YAML invariants, checked statically and by hypothesis;
- :mod:`.profiles`: the ``ci`` and ``deep`` hypothesis profiles;
- :mod:`.pytest_plugin`: fixtures ``bundle``/``route`` and YAML test cases.

Submodules are imported on demand, not here, so the pytest plugin (which every pytest run
of an installed pedonc_routing loads) stays cheap; ``__all__`` names them for
``from pedonc_routing.testing import *``.
"""

__all__ = [
    "bundles",
    "invariants",
    "patients",
    "profiles",
    "properties",
    "stateful",
    "strategies",
]
