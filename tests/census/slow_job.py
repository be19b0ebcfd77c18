"""A slow job kind for the worker-kill test, imported by the worker with ``--include``."""

from __future__ import annotations

import time

from census.jobs import JobOutput, ProgressReporter, job_handler
from census.models import Job


@job_handler("test_slow_count")
def slow_count(job: Job, report: ProgressReporter) -> JobOutput:
    steps = int(job.params.get("steps", 20))
    report.total(steps)
    lines = []
    for step in range(steps):
        time.sleep(float(job.params.get("pause", 0.2)))
        lines.append(f"line {step}\n")
        report.advance()
    return JobOutput(content="".join(lines).encode(), file_name="count.txt", result={"lines": steps})
