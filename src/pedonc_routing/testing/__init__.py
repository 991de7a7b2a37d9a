"""Tools for methodologists: prove things about a bundle, not just try examples.

- :mod:`.strategies`: hypothesis strategies for valid patients, protocols and bundles;
- :mod:`.properties`: ready-made properties (total, unique, deterministic, capable
  facility, timely, monotonic) raising :class:`~.properties.PropertyFailed`;
- :mod:`.invariants`: authors' YAML invariants, checked statically and by hypothesis;
- :mod:`.profiles`: the ``ci`` and ``deep`` hypothesis profiles;
- :mod:`.pytest_plugin`: fixtures ``bundle``/``route`` and YAML test cases.

Submodules are imported on demand (importing :mod:`.strategies` registers a strategy for
``PatientState``), so the pytest plugin stays cheap to load.
"""
