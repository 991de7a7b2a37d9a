"""Hypothesis settings profiles for property tests of protocol bundles.

Why: the same property suite serves two purposes. In CI it must be fast and reproducible
(a red build must fail the same way on a rerun), so ``ci`` is derandomized with a modest
number of examples; before a protocol release a methodologist wants a long search, so
``deep`` draws many examples. Select one with the environment variable
``HYPOTHESIS_PROFILE`` (``register_profiles(load=True)``) or hypothesis's own
``pytest --hypothesis-profile=deep``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["CI", "DEEP", "ENVIRONMENT_VARIABLE", "register_profiles"]

CI = "ci"
DEEP = "deep"
ENVIRONMENT_VARIABLE = "HYPOTHESIS_PROFILE"


def register_profiles(*, load: bool = False, default: str = CI) -> str | None:
    """Register ``ci`` (derandomized, 200 examples, no deadline) and ``deep`` (5,000
    examples, no deadline). Routing a patient takes well under a millisecond, but the first
    example of a test may load a bundle, so deadlines would only add flaky failures.

    With ``load=True`` the profile named by ``HYPOTHESIS_PROFILE`` (else ``default``) is
    loaded, and its name returned.
    """
    slow = [HealthCheck.too_slow]
    settings.register_profile(
        CI, derandomize=True, max_examples=200, deadline=None, suppress_health_check=slow
    )
    settings.register_profile(DEEP, max_examples=5000, deadline=None, suppress_health_check=slow)
    if not load:
        return None
    name = os.environ.get(ENVIRONMENT_VARIABLE, default)
    settings.load_profile(name)
    return name
