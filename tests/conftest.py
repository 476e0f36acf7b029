"""Settings for the whole suite."""

from hypothesis import HealthCheck, settings

# CI shares two cores with a browser, a database and a Spark JVM: a slow example is load, not a
# failure, so property tests get no per-example deadline and no too-slow health check.
settings.register_profile(
    "suite", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("suite")
