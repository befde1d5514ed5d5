"""Batch scoring in chunks: CSV or Parquet in, id + PD + decision (+ reason codes) out.

Pure pieces (chunk scoring, the summary) are separate from the file handling, which reads
Parquet row groups or CSV chunks and writes to a temporary file renamed into place only when every
chunk scored, so a bad row never leaves a half-written output behind.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.data import file_columns, table_format
from features.errors import DataError
from features.outputs import check_output, exclusive_temp, publish
from features.transform import InputError
from pipelines.core.free_text import shown
from pipelines.scoring.decision import DECLINE, LABELS, REFER, declined
from pipelines.scoring.reasons import measured_agreement
from pipelines.scoring.request_check import missing_required
from pipelines.scoring.scorer import Scorer

AGREEMENT_ROWS = 1_000  # declined applicants of the first chunk on which approximate reasons are checked
Item = TypeVar("Item")


@dataclass
class ScoreSummary:
    rows: int = 0
    declined: int = 0
    referred: int = 0
    unseen: Counter = field(default_factory=Counter)  # column -> values scored as missing
    agreement: dict[str, float] = field(default_factory=dict)  # approx against exact reasons, on a sample
    agreement_rows: int = 0

    def add(self, scored: pd.DataFrame, unseen: dict[str, int]) -> None:
        """Count a scored chunk and its unseen categories (column -> count)."""
        self.rows += len(scored)
        self.declined += int((scored["decision"] == DECLINE).sum())
        self.referred += int((scored["decision"] == REFER).sum())
        self.unseen.update(unseen)

    def lines(self) -> list[str]:
        rate = self.declined / self.rows if self.rows else 0.0
        lines = [f"scored {self.rows:,} applications: {self.declined:,} declined ({rate:.1%})"]
        if self.referred:
            lines[0] += f", {self.referred:,} referred to an underwriter ({self.referred / self.rows:.1%})"
        lines += [f"unseen categories scored as missing: {col} {n:,}" for col, n in sorted(self.unseen.items())]
        if self.agreement:
            lines.append(
                f"approximate (Saabas) reasons: the same set as exact TreeSHAP for {self.agreement['top_k_set']:.0%} "
                f"and the same first reason for {self.agreement['reason_1']:.0%} of {self.agreement_rows:,} declined "
                "applicants checked (--reasons exact gives the exact ones)"
            )
        return lines


def approx_agreement(scorer: Scorer, raw: pd.DataFrame) -> tuple[dict[str, float], int]:
    """How well Saabas reasons match exact ones on up to AGREEMENT_ROWS declined applicants of `raw`."""
    features = scorer.transform.transform(raw)
    pd_values = scorer.booster.inplace_predict(features, validate_features=True)
    sample = features[declined(pd_values, scorer.cutoff)].head(AGREEMENT_ROWS)
    return measured_agreement(scorer.booster, sample, scorer.baseline, scorer.texts), len(sample)


def score_chunk(
    scorer: Scorer, raw: pd.DataFrame, *, id_column: str | None, reason_method: str, all_reasons: bool = False
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One chunk: the id column (when present), PD, decision and reasons (declined applicants only, unless
    `all_reasons`), and the count of unseen categories per column (values the transform turned into missing).
    Bad input is a DataError."""
    try:
        features = scorer.transform.transform(raw)
    except InputError as exc:
        raise DataError(f"input does not match the model: {exc}") from None
    unseen = {
        name: int(n)
        for name in scorer.transform.categorical
        if (n := (features[name].isna().to_numpy() & raw[name].notna().to_numpy()).sum())
    }
    # a row missing a value training almost always had is referred, as the served model does (request_check.py)
    lacking = missing_required(raw, list(scorer.required))[0] if scorer.refer is not None else None
    scored = scorer.score_input(features, reason_method=reason_method, all_reasons=all_reasons, refer_rows=lacking)
    # the file gets the same text; as a categorical, Arrow writes it from two labels instead of a million strings
    codes = scorer.codes(features, scored["probability_of_default"].to_numpy(), lacking)
    labels = LABELS if scorer.refer is not None else LABELS[:2]
    scored["decision"] = pd.Categorical.from_codes(codes, list(labels))
    if id_column and id_column in raw.columns:
        scored.insert(0, id_column, raw[id_column].to_numpy())
    return scored.set_axis(pd.RangeIndex(len(scored)), axis=0, copy=False), unseen  # no copy of the columns


def needed_columns(path: Path, wanted: list[str]) -> list[str]:
    """The wanted columns the input has (a missing one is reported by the transform, by name), or a DataError
    naming the real problem when the header explains why they are missing."""
    header = file_columns(path)
    problem = header_problem(header, wanted)
    if problem:
        raise DataError(f"input {path}: {problem}")
    present = set(header)
    return [c for c in wanted if c in present]


SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


def header_problem(header: list[str], wanted: list[str]) -> str | None:
    """Why a header lacks wanted columns, when it shows: one column holding another separator (a `;`- or
    tab-separated file read as CSV), or names that match the model's only up to case or spaces."""
    missing = [c for c in wanted if c not in set(header)]
    if not missing:
        return None
    if len(header) == 1:
        for separator, name in SEPARATORS.items():
            if separator in header[0]:
                return (
                    f"its header is one column holding {name}: the file is separated by {name}, not commas "
                    "(save it as comma-separated CSV)"
                )
    by_key = {h.strip().casefold(): h for h in header}
    near = [(by_key[c.strip().casefold()], c) for c in missing if c.strip().casefold() in by_key]
    if near:
        pairs = ", ".join(f"{shown(found)} for {shown(name)}" for found, name in near[:5])
        return f"column name(s) match the model's only up to case or spaces: {pairs} (rename them)"
    return None


def count_rows(path: Path) -> int:
    """Rows in a Parquet file (metadata) or data lines in a CSV file (a byte scan, ~1 s per GB)."""
    _check_format(path)
    if table_format(path) == "parquet":
        try:
            return pq.ParquetFile(path).metadata.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read {path}: {str(exc).strip().splitlines()[0]}") from None
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(lines + (last != b"\n") - 1, 0)  # minus the header


def read_chunks(
    path: Path, *, rows: int, wanted: list[str], categorical: tuple[str, ...] = ()
) -> Iterator[pd.DataFrame]:
    """The `wanted` columns of the input in chunks of about `rows` rows (Parquet: record batches of its
    row groups). Other columns (PII, the target...) are never read. Parquet text columns named in
    `categorical` arrive as pandas categoricals (Arrow dictionaries): the transform then recodes a
    few categories instead of hashing every string, which halves the cost of reading and encoding."""
    _check_format(path)
    if not path.is_file():
        raise DataError(f"input file not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"input file is empty: {path}")
    try:
        columns = needed_columns(path, wanted)
        if table_format(path) == "parquet":
            parquet = pq.ParquetFile(path, read_dictionary=_text_columns(path, categorical))
            for batch in parquet.iter_batches(batch_size=rows, columns=columns):
                yield batch.to_pandas()
        else:
            yield from pd.read_csv(path, chunksize=rows, usecols=columns, low_memory=False)
    except (pa.ArrowException, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).strip().splitlines()[0]}") from None


def read_ahead(items: Iterator[Item]) -> Iterator[Item]:
    """`items`, the next one fetched on a thread while the caller works on the current one.

    Arrow decodes a Parquet row group (or pandas parses a CSV chunk) with the GIL mostly released, so reading
    chunk n+1 overlaps scoring chunk n; an error of the reader is raised here, in the caller's thread, in order.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(next, items, None)
        while (item := pending.result()) is not None:
            pending = pool.submit(next, items, None)
            yield item


def _text_columns(path: Path, names: tuple[str, ...]) -> list[str]:
    schema = pq.ParquetFile(path).schema_arrow
    return [n for n in names if n in schema.names and pa.types.is_string(schema.field(n).type)]


class ChunkWriter:
    """Appends scored chunks to a CSV or Parquet file, written under a temporary name until `commit`.

    The temporary file is created at once, so a folder that cannot be written fails before any scoring;
    a write that fails later (a full disk) is a DataError too, raised by the next `write` or by `commit`.
    Each chunk is encoded and written on a thread of its own while the caller scores the next one (Arrow
    releases the GIL); chunks are written one at a time, in order."""

    def __init__(self, path: Path, *, inputs: Sequence[Path] = (), overwrite: bool = False):
        _check_format(path)
        check_output(path, inputs=inputs, overwrite=overwrite)  # never over an input, nor an existing file unasked
        self.path, self.overwrite = path, overwrite
        self.partial = exclusive_temp(path)  # a new file under a random name: never through a planted name or link
        self._parquet: pq.ParquetWriter | None = None
        self._started = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer")
        self._pending: Future | None = None

    def _writing(self, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            raise DataError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def write(self, chunk: pd.DataFrame) -> None:
        self._wait()
        self._pending = self._pool.submit(self._writing, lambda: self._write(chunk))

    def _wait(self) -> None:
        """Until the chunk being written is on disk; its error (a DataError), if any, raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write(self, chunk: pd.DataFrame) -> None:
        if table_format(self.path) == "parquet":
            if self._parquet is None:  # text columns typed string even when a first chunk has only None
                fields = [
                    pa.field(c, pa.string() if _is_text(chunk[c]) else pa.from_numpy_dtype(chunk[c].dtype))
                    for c in chunk.columns
                ]
                self._parquet = pq.ParquetWriter(self.partial, pa.schema(fields))
            self._parquet.write_table(pa.Table.from_pandas(chunk, schema=self._parquet.schema, preserve_index=False))
        else:
            chunk.to_csv(self.partial, mode="a" if self._started else "w", header=not self._started, index=False)
        self._started = True

    def commit(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown()
        self._writing(self._close)
        publish(self.partial, self.path, overwrite=self.overwrite)

    def discard(self) -> None:
        try:
            self._wait()
        except DataError:
            pass  # the output is being thrown away: its write error changes nothing
        finally:
            self._pool.shutdown()
        self._close()
        self.partial.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype)


def _check_format(path: Path) -> None:
    table_format(path)
