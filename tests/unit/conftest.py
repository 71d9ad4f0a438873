"""Hypothesis runs the same examples every time: CI stays fast and a failure reproduces."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "strongties",
    derandomize=True,
    deadline=None,
    max_examples=100,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("strongties")
