"""The public-use file in the formats statisticians open directly: Stata ``.dta``, SPSS ``.sav`` (both written by
pyreadstat, with variable labels and value labels) and Parquet (pyarrow, the labels in the columns' metadata).

The labels are the codebook's (``public_use.VARIABLES`` and the code lists of ``enumeration.codes``): in the
Stata and SPSS files the Chinese ones, as the district's analysts read them, in the Parquet file both Chinese
and English. Values are the same as in the CSV file — codes and counts as integers, a missing or suppressed
value missing (Stata ``.``, SPSS system-missing, Parquet null); the two text columns (township, status) are
strings, empty when missing in Stata and SPSS, which have no missing string.

The rows come from the CSV file the export has just written (``public_use.export_public``), read back by
pyarrow's CSV reader with every column's type stated, so all four formats hold the same records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from supervision.progress import public_use

# format → file extension (the names the exports page shows are services.PUBLIC_FORMATS)
EXTENSIONS = {"stata": "dta", "spss": "sav", "parquet": "parquet"}
TEXT_COLUMNS = ("township", "status")
# Stata and SPSS read a file's label; Stata keeps at most 80 characters.
FILE_LABEL = "人口普查公开使用微观数据（已作统计披露控制）"


def value_labels(language: str = "zh") -> dict[str, dict[int, str]]:
    """Every integer variable's value labels in ``language`` (``zh`` or ``en``), from the codebook."""
    column = 2 if language == "zh" else 3
    labels: dict[str, dict[int, str]] = {}
    for row in public_use.codebook_rows()[1:]:
        name, value = row[0], row[1]
        if name not in TEXT_COLUMNS and isinstance(value, int):
            labels.setdefault(name, {})[value] = row[column]
    return labels


def variable_labels(language: str = "zh") -> dict[str, str]:
    return {name: zh if language == "zh" else en for name, (zh, en, _codes) in public_use.VARIABLES.items()}


def read_csv(path: Path) -> pa.Table:
    """The public-use CSV file as an Arrow table: text columns as strings, the others as 16-bit integers, an
    empty cell null."""
    types = {name: pa.string() if name in TEXT_COLUMNS else pa.int16() for name in public_use.HEADER}
    table = pa_csv.read_csv(
        path,
        convert_options=pa_csv.ConvertOptions(
            column_types=types, strings_can_be_null=True, include_columns=list(public_use.HEADER)
        ),
    )
    return table


def _with_labels(table: pa.Table, report: dict[str, Any]) -> pa.Table:
    zh, en = variable_labels("zh"), variable_labels("en")
    values_zh, values_en = value_labels("zh"), value_labels("en")
    fields = []
    for schema_field in table.schema:
        name = schema_field.name
        metadata = {"label_zh": zh[name], "label_en": en[name]}
        if name in values_zh:
            metadata["value_labels_zh"] = json.dumps(values_zh[name], ensure_ascii=False)
            metadata["value_labels_en"] = json.dumps(values_en[name], ensure_ascii=False)
        fields.append(schema_field.with_metadata(metadata))
    schema = pa.schema(fields, metadata={"title": FILE_LABEL, "disclosure": json.dumps(report, ensure_ascii=False)})
    return table.cast(schema)


def write(table: pa.Table, path: Path, *, file_format: str, report: dict[str, Any]) -> None:
    """Write ``table`` (``read_csv``) to ``path`` as ``file_format`` (a key of ``EXTENSIONS``)."""
    if file_format == "parquet":
        pq.write_table(_with_labels(table, report), path)
        return
    import pyreadstat  # imported here: it brings pandas, which nothing else of the worker needs

    frame = table.to_pandas(types_mapper=_nullable_integers)
    for name in TEXT_COLUMNS:
        frame[name] = frame[name].fillna("")
    options: dict[str, Any] = {
        "file_label": FILE_LABEL,
        "column_labels": variable_labels("zh"),
        "variable_value_labels": value_labels("zh"),
    }
    if file_format == "stata":
        pyreadstat.write_dta(frame, str(path), version=15, **options)  # version 15 (Stata 15+): UTF-8 text
    elif file_format == "spss":
        pyreadstat.write_sav(frame, str(path), **options)
    else:
        raise ValueError(file_format)


def _nullable_integers(arrow_type: pa.DataType) -> Any:
    """Integers stay integers when a value is missing (pandas' nullable ``Int16``), not floats."""
    import pandas as pd

    return pd.Int16Dtype() if arrow_type == pa.int16() else None
