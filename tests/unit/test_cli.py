"""`gridmap db ...` works before there is a database: it is what makes one."""

from click.testing import CliRunner

from gridmap.cli import main


def test_db_url_without_a_database_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "url"])
    assert result.exit_code == 1
    assert "no database: set DATABASE_URL, or run `make run` once" in result.output


def test_db_url_prints_database_url(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:5432/gridmap")
    result = CliRunner().invoke(main, ["db", "url"])
    assert result.exit_code == 0 and result.output.strip() == "postgresql://u@127.0.0.1:5432/gridmap"
