"""Aggregation jobs on a huey queue: SQLite storage on the embedded default, Redis in production.

The need for work is data (``indicator_marks``, written with the change); huey schedules, retries and runs it.
"""

from app.jobs.queue import Jobs, init_app, jobs_of

__all__ = ["Jobs", "init_app", "jobs_of"]
