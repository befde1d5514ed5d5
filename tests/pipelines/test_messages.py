"""Messages that name the real problem (issue 28, item 4)."""

import importlib.util

from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import write_spec


def test_a_missing_team_extra_names_the_install_command(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "psycopg2" else real(name, *a))
    result = CliRunner().invoke(cli, ["server", "start", "--folder", str(tmp_path)])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "psycopg2 not installed" in result.output and "pip install -c constraints.txt -e '.[team]'" in result.output


def test_a_window_label_written_as_a_month_must_be_one(tmp_path):
    from monitoring.command import window_label

    assert window_label("2026-12") == "2026-12" and window_label("all-rows") == "all-rows"
    for bad in ("2026-13", "2026-1", "2026-00"):
        try:
            window_label(bad)
        except Exception as exc:  # noqa: BLE001 - the message is what is tested
            assert f"--window '{bad}' is not a month: use YYYY-MM" in str(exc)
        else:
            raise AssertionError(bad)


def test_a_two_megabyte_value_in_a_spec_is_echoed_cut(tmp_path, tracking_uri):
    spec = write_spec(tmp_path, **{"data.source": "/nowhere/" + "x" * 2_000_000})
    result = CliRunner().invoke(cli, ["run", str(spec)])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output[:500]
    assert len(result.output) < 1_000 and "(1,999,8" in result.output, result.output[:1000]
