"""Read-only commands never create a store; a store whose folder does not exist says so (issue 28)."""

from click.testing import CliRunner

from pipelines.cli import cli


def test_status_on_a_mistyped_sqlite_path_creates_nothing_and_says_so(tmp_path):
    missing = tmp_path / "mlfow.db"
    result = CliRunner().invoke(cli, ["status", "german_credit", "--tracking-uri", f"sqlite:///{missing}"])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert f"no database at {missing}" in result.output and "nothing was created" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_store_whose_folder_does_not_exist_is_named(tmp_path):
    uri = f"sqlite:///{tmp_path / 'nowhere' / 'mlflow.db'}"
    for args in (["status", "german_credit"], ["audit", "verify", "german_credit"], ["promote", "german_credit", "1"]):
        result = CliRunner().invoke(cli, [*args, "--tracking-uri", uri])
        assert result.exit_code == 2, result.output
        assert f"folder {tmp_path / 'nowhere'} does not exist" in result.output and "unknown model" not in result.output
    assert list(tmp_path.iterdir()) == []
