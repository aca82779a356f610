"""Background jobs: a lifecycle in the database, run by threads or Celery workers.

See docs/jobs.md. No web framework in here: the API, the CLI and the workers
all drive jobs through ``JobService``.
"""
