"""Supervision: what offices do on top of the registrations.

Parts (each its own Django app): ``quality`` (nightly checks and findings), ``progress`` (dashboards,
summaries, exports), ``organisation`` (readiness, subsidies, the rectification register, the directory,
trainings).
"""
