"""Incremental writers: NDJSON appended block after block, Parquet through ParquetWriter."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def _plain(table: pa.Table) -> pa.Table:
    """Arrow types every Parquet reader knows (string views become strings)."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_string_view(t) or pa.types.is_large_string(t):
            t = pa.string()
        elif pa.types.is_large_list(t):
            t = pa.list_(t.value_type)
        fields.append(pa.field(f.name, t))
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


#: High-cardinality columns: no Parquet dictionary (it would be dropped after a costly try).
NO_DICTIONARY = {
    "id",
    "nir",
    "feuille_id",
    "carte_vitale",
    "nir_demandeur",
    "iban",
    "adresse",
    "numero",
    "montant_facture_cts",
    "foyer",
}


class Sink:
    """One output table, written as NDJSON and/or Parquet, block by block."""

    def __init__(self, ndjson: Path | None = None, parquet: Path | None = None) -> None:
        self.ndjson_path = ndjson
        self.parquet_path = parquet
        self._ndjson: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self.rows = 0
        for path in (ndjson, parquet):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.unlink(missing_ok=True)

    def write(self, frame: pl.DataFrame) -> None:
        self.rows += len(frame)
        if self.ndjson_path is not None:
            if self._ndjson is None:
                self._ndjson = open(self.ndjson_path, "wb")  # noqa: SIM115
            frame.write_ndjson(self._ndjson)
        if self.parquet_path is not None:
            table = _plain(frame.to_arrow())
            if self._parquet is None:
                dictionary = [name for name in table.column_names if name not in NO_DICTIONARY]
                self._parquet = pq.ParquetWriter(
                    self.parquet_path, table.schema, compression="snappy", use_dictionary=dictionary
                )
            else:
                table = table.cast(self._parquet.schema)
            self._parquet.write_table(table)

    def close(self, empty_schema: pl.DataFrame | None = None) -> None:
        """Close the files; an empty table still gets a file (with ``empty_schema``'s columns)."""
        if self._ndjson is not None:
            self._ndjson.close()
        elif self.ndjson_path is not None:
            self.ndjson_path.write_bytes(b"")
        if self._parquet is not None:
            self._parquet.close()
        elif self.parquet_path is not None and empty_schema is not None:
            pq.write_table(_plain(empty_schema.to_arrow()), self.parquet_path)
