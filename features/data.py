"""Loading the data a spec names (CSV, Parquet or the synthetic book) and digesting it for lineage."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Collection

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.errors import DataError
from features.outputs import written
from features.spec import Spec

# The one list of file formats creditflow reads and writes (training, scoring, monitoring): suffix -> format.
TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | Path, *, role: str = "") -> str:
    """ "csv" or "parquet" by the file's suffix; DataError naming the accepted suffixes otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        what = f"{role} format" if role else "format"
        raise DataError(f"unsupported {what} '{suffix}' (use {', '.join(TABLE_FORMATS)}): {path}")
    return TABLE_FORMATS[suffix]


@dataclass(frozen=True)
class LoadedData:
    frame: pd.DataFrame
    digest: str  # sha256 of the whole file (MLflow's dataset digest reads only 10,000 rows)
    source: str  # where it came from, for humans: a path or "synthetic(rows=..., seed=...)"
    warnings: list[str] = field(default_factory=list)  # the data is usable, but the user should know
    unread: list[str] = field(default_factory=list)  # PII columns the file holds, deliberately not read


def load_data(spec: Spec, spec_path: str | Path) -> LoadedData:
    """Load the spec's data; a relative source path is read relative to the spec file."""
    if spec.data.synthetic is not None:
        from features.synthetic import generate_book

        options = spec.data.synthetic
        frame = generate_book(options)  # validated with the spec
        label = "synthetic(" + ", ".join(f"{k}={v}" for k, v in asdict(options).items()) + ")"
        return LoadedData(frame, frame_digest(frame), label)
    if spec.data.source is None:  # the spec's validator already demands exactly one of source and synthetic
        raise DataError("data needs 'source' (a CSV/Parquet path) or 'synthetic'")
    path = Path(spec.data.source)
    if not path.is_absolute():
        path = Path(spec_path).parent / path
    data = spec.data
    declared = [c for c in (data.target, data.id, data.time, *spec.features.all(), *data.sensitive_sources()) if c]
    # Only what the spec uses is read: PII is never loaded (the contract still checks that it is where the spec
    # says, from the file's header), and at a million rows unread text columns are most of the reading time.
    names = file_columns(path)  # first: it names a missing, empty or unreadable file
    unread = [c for c in data.pii if c in names and c not in declared]
    frame = read_table(path, columns=[c for c in declared if c in names] or None)
    warnings = duplicate_warnings(path, {*declared, *data.pii})
    return LoadedData(frame, file_digest(path), str(path), warnings, unread)


def read_table(
    path: str | Path, *, columns: Collection[str] | None = None, dictionary: Collection[str] = ()
) -> pd.DataFrame:
    """Read a CSV or Parquet file; a missing, empty or unreadable file is a DataError.

    With `columns`, only those of them the file has are read (the caller checks for missing ones):
    at a million rows, unread text columns save hundreds of MB. Parquet text columns named in `dictionary` are read
    as pandas categoricals (one small code per row instead of a pointer to a string object).
    """
    path = _existing(path)
    kind = table_format(path)
    try:
        if kind == "csv":
            wanted = None if columns is None else set(columns)
            frame = pd.read_csv(path, low_memory=False, usecols=None if wanted is None else lambda c: c in wanted)
        else:
            frame = _read_parquet(path, columns, dictionary)
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from None
    if frame.empty:
        raise DataError(f"data file has no rows: {path}")
    return frame


def file_columns(path: str | Path) -> list[str]:
    """The column names a CSV or Parquet file holds, read from its header; errors as in `read_table`."""
    path = _existing(path)
    try:
        return _header(path)
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from None


_UNREADABLE = (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"data file is empty: {path}")
    return path


def _unreadable(path: Path, exc: Exception) -> DataError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataError(f"cannot read {path}: {first_line}")


def _read_parquet(path: Path, columns: Collection[str] | None, dictionary: Collection[str] = ()) -> pd.DataFrame:
    """Only the wanted columns the file has, decoded and converted one column at a time: the Arrow copy of a
    large file never exists whole beside its pandas copy (for a 1M-row, 40-column file that transient was
    ~500 MB, and Arrow's allocator keeps what it once held). Of a name held twice, the first column is read,
    as for a CSV."""
    schema = pq.read_schema(path)
    names = schema.names
    kinds = {field.name: field.type for field in schema}
    text = sorted(
        c for c in dictionary if c in kinds and (pa.types.is_string(kinds[c]) or pa.types.is_large_string(kinds[c]))
    )
    if len(set(names)) < len(names):  # Arrow refuses to select an ambiguous name: select by position
        table = pq.ParquetFile(path).read()
        first = {name: i for i, name in reversed(list(enumerate(names)))}
        table = table.select(sorted(i for name, i in first.items() if columns is None or name in set(columns)))
        return table.to_pandas(self_destruct=True, split_blocks=True)
    present = None if columns is None else [c for c in names if c in set(columns)]
    if not present or _index_read(schema, present):  # everything, nothing, or an index pandas rebuilds from them
        table = pq.read_table(path, columns=present, read_dictionary=text or None)
        return table.to_pandas(self_destruct=True, split_blocks=True)
    file = pq.ParquetFile(path, read_dictionary=text or None)
    # each single-column table keeps the file's pandas metadata, so its index is the one a whole read restores
    series = {name: file.read(columns=[name]).to_pandas(self_destruct=True)[name] for name in present}
    return pd.DataFrame(series, copy=False)


def _index_read(schema: pa.Schema, present: list[str]) -> bool:
    """Whether a wanted column is an index pandas wrote as a column: one read of them all makes it the index."""
    meta = schema.pandas_metadata or {}
    return any(entry in present for entry in meta.get("index_columns", []) if isinstance(entry, str))


def duplicate_warnings(path: str | Path, wanted: Collection[str]) -> list[str]:
    """A warning per wanted column name the file holds more than once: pandas reads the first and renames
    the others (`name.1`), which nothing declares, so they are silently ignored."""
    names = _header(Path(path))
    warnings = []
    for name in dict.fromkeys(n for n in names if n in set(wanted) and names.count(n) > 1):
        first, *others = [i for i, n in enumerate(names, 1) if n == name]
        ignored = (
            f"other (column {others[0]})" if len(others) == 1 else f"others (columns {', '.join(map(str, others))})"
        )
        times = f"appears {len(others) + 1} times in {path}"
        warnings.append(f"column '{name}' {times}: the first (column {first}) is used, the {ignored} ignored")
    return warnings


def _header(path: Path) -> list[str]:
    """The column names as the file writes them (pandas renames duplicates when it reads)."""
    if table_format(path) == "parquet":
        return pq.read_schema(path).names
    return [str(n) for n in pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()]


def write_table(frame: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> None:
    """Write CSV or Parquet by the file's suffix: never over an existing file unless `overwrite`, never through a
    planted name (features/outputs.py)."""
    path = Path(path)
    kind = table_format(path, role="output")
    try:
        with written(path, overwrite=overwrite) as temporary:
            if kind == "csv":
                frame.to_csv(temporary, index=False)
            else:
                frame.to_parquet(temporary, index=False)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """Digest of every row and column name of an in-memory frame."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()
