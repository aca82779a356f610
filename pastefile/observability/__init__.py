"""Health checks, Prometheus metrics, Sentry: see docs/operations.md (Observability)."""
