"""Academy: the Citizen Science Academy's web application (project package and core app)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
