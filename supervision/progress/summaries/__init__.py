"""Summary tables for the district bureau: computed (``compute``), balanced (``balance``), written (``writers``)."""

from supervision.progress.summaries.balance import BalanceError, Check, check_summary
from supervision.progress.summaries.compute import build_summary
from supervision.progress.summaries.model import Summary, SummaryTable
from supervision.progress.summaries.writers import write_csv_zip, write_xlsx

__all__ = [
    "BalanceError",
    "Check",
    "Summary",
    "SummaryTable",
    "build_summary",
    "check_summary",
    "write_csv_zip",
    "write_xlsx",
]
