"""Supervision: quality checks and findings, dashboards, exports, the rectification register."""
