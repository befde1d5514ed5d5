"""Outputs never overwrite inputs or existing files, and never write through a planted name (issue 28, item 2)."""

import os

import pandas as pd
import pytest
from click.testing import CliRunner

from features.errors import DataError
from features.outputs import check_output, written
from pipelines.cli import cli
from pipelines.scoring.batch import ChunkWriter


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def applicants(tmp_path):
    path = tmp_path / "in.csv"
    pd.DataFrame({"x": [1, 2]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_an_output_that_is_the_input_is_refused_even_with_overwrite(tmp_path, applicants, link):
    out = {"same": lambda: applicants, "symlink": lambda: tmp_path / "s.csv", "hardlink": lambda: tmp_path / "h.csv"}
    target = out[link]()
    if link == "symlink":
        target.symlink_to(applicants)
    elif link == "hardlink":
        os.link(applicants, target)
    with pytest.raises(DataError, match=r"is the input .* \(the same file\)"):
        check_output(target, inputs=[applicants], overwrite=True)


def test_score_onto_its_own_input_is_one_line_exit_2_and_the_input_is_untouched(tmp_path, applicants, tracking_uri):
    before = applicants.read_bytes()
    result = invoke("score", "models:/german_credit/3", applicants, applicants)
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "is the input" in result.output and applicants.read_bytes() == before
    other = tmp_path / "scores.csv"
    other.write_text("keep me")
    existing = invoke("score", "models:/german_credit/3", applicants, other)
    assert existing.exit_code == 2 and "exists: give another name, or --overwrite" in existing.output
    assert other.read_text() == "keep me"


def test_a_planted_partial_symlink_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / ".out.csv.partial").symlink_to(victim)  # the old, predictable temporary name
    writer = ChunkWriter(tmp_path / "out.csv")
    writer.write(pd.DataFrame({"p": [0.1]}))
    writer.commit()
    assert victim.read_text() == "precious" and pd.read_csv(tmp_path / "out.csv")["p"].tolist() == [0.1]


def test_an_output_symlink_is_replaced_itself_with_overwrite_never_its_target(tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("precious")
    (tmp_path / "out.csv").symlink_to(victim)
    with pytest.raises(DataError, match="exists"):
        check_output(tmp_path / "out.csv", overwrite=False)
    with written(tmp_path / "out.csv", overwrite=True) as temporary:
        temporary.write_text("p\n0.1\n")
    assert victim.read_text() == "precious" and not (tmp_path / "out.csv").is_symlink()


def test_a_failed_write_leaves_neither_output_nor_temporary(tmp_path):
    with pytest.raises(RuntimeError), written(tmp_path / "out.csv", overwrite=False) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk gone")
    assert list(tmp_path.iterdir()) == []


def test_generate_refuses_an_existing_file_and_a_symlink_unless_overwrite(tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("precious")
    (tmp_path / "book.csv").symlink_to(victim)
    refused = invoke("generate", "--rows", 50, tmp_path / "book.csv")
    assert refused.exit_code == 2 and "exists" in refused.output and victim.read_text() == "precious"
    done = invoke("generate", "--rows", 50, "--overwrite", tmp_path / "book.csv")
    assert done.exit_code == 0, done.output
    assert victim.read_text() == "precious" and len(pd.read_csv(tmp_path / "book.csv")) == 50
