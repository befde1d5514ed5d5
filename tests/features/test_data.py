import pandas as pd

from features.data import load_data
from features.spec import Spec


def spec_on(path) -> Spec:
    return Spec.model_validate(
        {
            "name": "tiny",
            "data": {"source": str(path), "target": "bad", "positive": 1},
            "features": {"numeric": ["income"], "categorical": ["region"]},
            "reasons": {"income": "Income", "region": "Region"},
        }
    )


def test_a_declared_column_named_twice_is_read_once_with_a_warning(tmp_path):
    """pandas renames the second of two same-named CSV columns 'income.1' and reads on: say which one is used."""
    path = tmp_path / "dup.csv"
    path.write_text("income,region,income,bad\n1,north,100,0\n2,south,200,1\n")
    loaded = load_data(spec_on(path), tmp_path / "spec.yaml")
    assert loaded.frame["income"].tolist() == [1, 2]
    assert loaded.warnings == [
        f"column 'income' appears 2 times in {path}: the first (column 1) is used, the other (column 3) ignored"
    ]


def test_a_parquet_file_with_a_column_named_twice_is_read_once_with_a_warning(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    table = pa.table([[1, 2], ["north", "south"], [100, 200], [0, 1]], names=["income", "region", "income", "bad"])
    pq.write_table(table, path)
    loaded = load_data(spec_on(path), tmp_path / "spec.yaml")
    assert loaded.frame["income"].tolist() == [1, 2]
    assert loaded.warnings == [
        f"column 'income' appears 2 times in {path}: the first (column 1) is used, the other (column 3) ignored"
    ]


def test_unique_columns_give_no_warning(tmp_path):
    path = tmp_path / "ok.csv"
    pd.DataFrame({"income": [1, 2], "region": ["a", "b"], "bad": [0, 1]}).to_csv(path, index=False)
    assert load_data(spec_on(path), tmp_path / "spec.yaml").warnings == []


def test_pii_and_undeclared_columns_are_never_read_but_pii_must_be_there(tmp_path):
    """Only what the spec uses is loaded: PII never reaches memory (nor anything logged from it), and at a million
    rows unread text columns are most of the reading time. A declared PII column the file lacks is still an error."""
    import pytest

    from features.contract import check_contract
    from features.errors import DataError

    for suffix in ("csv", "parquet"):
        path = tmp_path / f"book.{suffix}"
        frame = pd.DataFrame(
            {"name": ["Ann", "Bo"], "income": [1, 2], "region": ["a", "b"], "notes": ["x", "y"], "bad": [0, 1]}
        )
        frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path, index=False)
        spec = spec_on(path).model_copy(update={"data": spec_on(path).data.model_copy(update={"pii": ["name"]})})
        loaded = load_data(spec, tmp_path / "spec.yaml")
        assert list(loaded.frame.columns) == ["income", "region", "bad"] and loaded.unread == ["name"]
        check_contract(loaded.frame, spec, loaded.unread)  # the PII column is where the spec says
        missing = spec.model_copy(update={"data": spec.data.model_copy(update={"pii": ["name", "phone"]})})
        loaded = load_data(missing, tmp_path / "spec.yaml")
        with pytest.raises(DataError, match="missing declared column.*phone"):
            check_contract(loaded.frame, missing, loaded.unread)


def test_a_file_without_any_declared_column_is_read_whole_and_named_by_the_contract(tmp_path):
    from features.contract import check_contract

    path = tmp_path / "other.csv"
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(path, index=False)
    loaded = load_data(spec_on(path), tmp_path / "spec.yaml")
    assert list(loaded.frame.columns) == ["a", "b"]
    import pytest

    from features.errors import DataError

    with pytest.raises(DataError, match="missing declared column"):
        check_contract(loaded.frame, spec_on(path), loaded.unread)
