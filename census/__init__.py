"""The project package and the census frame (areas, staff, scopes)."""

from census.celery import app as celery_app

__all__ = ["celery_app"]
