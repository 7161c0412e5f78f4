"""The wheel carries every package of bot/ and the files the bot reads at run time."""

from __future__ import annotations

import tomllib

from bot.resources import MIGRATIONS_DIR, SCHEMA_PATH, SOURCE_ROOT, SQL_DIR


def test_every_package_of_bot_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((SOURCE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        p.parent.relative_to(SOURCE_ROOT).as_posix().replace("/", ".") for p in SOURCE_ROOT.glob("bot/**/__init__.py")
    }
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"bot.sql", "bot.schema"}  # the mapped data folders


def test_run_time_files_are_found_in_the_source_checkout() -> None:
    assert (SQL_DIR / "tempvoice").is_dir() and SCHEMA_PATH.is_file()
    assert sorted(MIGRATIONS_DIR.glob("0001_*.sql"))
