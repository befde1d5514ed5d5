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
