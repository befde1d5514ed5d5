"""Chunked reading and writing of scoring files, and the summary (no tracking store)."""

import threading

import pandas as pd
import pytest

from features.errors import DataError
from pipelines.scoring.batch import ChunkWriter, ScoreSummary, count_rows, read_ahead, read_chunks


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_are_counted_and_read_in_chunks_of_the_wanted_columns_only(tmp_path, suffix):
    frame = pd.DataFrame({"id": range(10), "x": [float(i) for i in range(10)], "name": ["secret"] * 10})
    path = tmp_path / f"in{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, row_group_size=4)
    assert count_rows(path) == 10
    chunks = list(read_chunks(path, rows=4, wanted=["id", "x", "absent"]))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert all(list(c.columns) == ["id", "x"] for c in chunks)  # PII never read; absent left to the transform


def test_a_csv_without_trailing_newline_is_counted(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n3,4")
    assert count_rows(path) == 2


def test_parquet_output_keeps_text_columns_even_if_the_first_chunk_has_none(tmp_path):
    writer = ChunkWriter(tmp_path / "out.parquet")
    writer.write(pd.DataFrame({"p": [0.1], "reason_4": [None]}, dtype=object).astype({"p": float}))
    writer.write(pd.DataFrame({"p": [0.2], "reason_4": ["Requested loan duration"]}))
    assert not (tmp_path / "out.parquet").exists()  # only the partial file until commit
    writer.commit()
    assert pd.read_parquet(tmp_path / "out.parquet")["reason_4"].tolist() == [None, "Requested loan duration"]


def test_a_discarded_output_leaves_nothing(tmp_path):
    writer = ChunkWriter(tmp_path / "out.csv")
    writer.write(pd.DataFrame({"p": [0.1]}))
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_read_ahead_keeps_the_order_reads_on_another_thread_and_raises_in_the_caller():
    readers = []

    def items():
        for i in range(5):
            readers.append(threading.current_thread().name)
            yield i
        raise DataError("cannot read in.parquet: truncated")

    seen = []
    with pytest.raises(DataError, match="truncated"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
    assert all(name.startswith("read-ahead") for name in readers)


def test_a_write_that_fails_on_the_writer_thread_is_a_data_error_and_leaves_nothing(tmp_path, monkeypatch):
    writer = ChunkWriter(tmp_path / "out.csv")
    writer.write(pd.DataFrame({"p": [0.1]}))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    writer.write(pd.DataFrame({"p": [0.2]}))  # fails on the writer thread
    with pytest.raises(DataError, match="cannot write .*No space left on device"):
        writer.commit()
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_bad_files_are_data_errors(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read"):
        list(read_chunks(tmp_path / "broken.parquet", rows=10, wanted=["x"]))
    with pytest.raises(DataError, match="cannot read"):
        count_rows(tmp_path / "broken.parquet")
    with pytest.raises(DataError, match="unsupported format '.xlsx'"):
        ChunkWriter(tmp_path / "out.xlsx")
    with pytest.raises(DataError, match="output folder does not exist"):
        ChunkWriter(tmp_path / "nowhere" / "out.csv")


def test_summary_counts_declines_and_unseen_categories():
    summary = ScoreSummary()
    summary.add(pd.DataFrame({"decision": ["decline", "approve"]}), {"purpose": 1})
    summary.add(pd.DataFrame({"decision": ["decline"]}), {"purpose": 2, "region": 1})
    assert summary.lines() == [
        "scored 3 applications: 2 declined (66.7%)",
        "unseen categories scored as missing: purpose 3",
        "unseen categories scored as missing: region 1",
    ]


def test_a_semicolon_or_tab_separated_file_names_its_separator(tmp_path):
    """Issue 28: a 200-row `;`-separated file used to get "input has no rows"."""
    frame = pd.DataFrame({"a": range(200), "b": range(200)})
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        path = tmp_path / "in.csv"
        frame.to_csv(path, sep=separator, index=False)
        with pytest.raises(DataError, match=f"header is one column holding {name}: the file is separated by {name}"):
            list(read_chunks(path, rows=50, wanted=["a", "b"]))


def test_column_names_matching_only_up_to_case_or_spaces_are_named(tmp_path):
    path = tmp_path / "in.csv"
    pd.DataFrame({"A": [1], " b ": [2], "c": [3]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"only up to case or spaces: 'A' for 'a', ' b ' for 'b' \(rename them\)"):
        list(read_chunks(path, rows=50, wanted=["a", "b", "c"]))
