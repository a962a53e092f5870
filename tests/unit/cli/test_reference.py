"""The command-line reference page is the one generated from the parsers."""

from __future__ import annotations

import pathlib

from tests.helpers import ROOT as ROOT_DIR
from zmr.cli import reference

ROOT = pathlib.Path(ROOT_DIR)


def test_the_cli_reference_page_is_fresh():
    page = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert page == reference.page(), f"stale: run {reference.COMMAND}"


def test_every_subcommand_and_flag_is_on_the_page():
    page = reference.page()
    for command in ("zmr run", "zmr submit", "zmr status", "zmr config init",
                    "python -m zmr.coordinator", "python -m zmr.worker"):
        assert f"`{command}`" in page
    assert "`--input, -i PATH`" in page and "`--log-level {debug,info,warning,error}`" in page


def test_check_reports_a_stale_page(tmp_path, capsys):
    stale = tmp_path / "cli.md"
    stale.write_text(reference.page().replace("zmr run", "zmr walk", 1))
    assert reference.main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    reference.main(["--write", str(stale)])
    assert reference.main(["--check", str(stale)]) == 0
