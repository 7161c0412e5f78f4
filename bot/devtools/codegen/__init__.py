"""The SQL toolchain: typed accessors generated from sql/ and checks against schema.sql.

`generate()` writes bot/db/queries.py; `check()` lists every problem: a query that does
not compile against schema.sql, a lint rule broken, a type that cannot be inferred, a
stale generated file. Needs the dev extras (sqlglot); the running bot never imports it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from bot.devtools.codegen.analyze import analyze
from bot.devtools.codegen.emit import GENERATOR_VERSION, render
from bot.devtools.codegen.loader import load_specs, namespace_dirs
from bot.devtools.codegen.model import AnalyzedQuery, CodegenError, Problem
from bot.devtools.codegen.postgres import render_pg_migrations
from bot.devtools.codegen.schema_model import SchemaModel
from bot.devtools.codegen.validate import compile_problems, lint_problems, plan_problems
from bot.resources import MIGRATIONS_DIR, SCHEMA_PATH, SOURCE_ROOT, SQL_DIR

__all__ = ["CodegenError", "Problem", "Project", "check", "generate"]


@dataclasses.dataclass(frozen=True)
class Project:
    """Where the inputs and the output live (tests point this at a temporary copy)."""

    sql_dir: Path = SQL_DIR
    schema_path: Path = SCHEMA_PATH
    output: Path = SOURCE_ROOT / "bot" / "db" / "queries.py"
    root: Path = SOURCE_ROOT
    migrations_dir: Path = MIGRATIONS_DIR


def inputs_sha256(project: Project) -> str:
    h = hashlib.sha256(f"generator {GENERATOR_VERSION}\n".encode())
    h.update(project.schema_path.read_bytes())
    for d in namespace_dirs(project.sql_dir):
        for f in sorted(d.glob("*.sql")):
            h.update(f"\n-- {d.name}/{f.name}\n".encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _analyze_all(project: Project) -> tuple[list[AnalyzedQuery], list[Problem]]:
    if not project.schema_path.is_file():
        raise CodegenError(f"schema file not found: {project.schema_path}")
    try:
        schema = SchemaModel.from_file(project.schema_path)
    except Exception as e:
        raise CodegenError(f"{project.schema_path}: does not load into SQLite: {e}") from e
    problems: list[Problem] = []
    analyzed: list[AnalyzedQuery] = []
    try:
        for spec in load_specs(project.sql_dir):
            where = spec.where(project.root)
            found = compile_problems(spec, schema)
            result: AnalyzedQuery | None = None
            if not found:
                found += plan_problems(spec, schema)
                try:
                    result = analyze(spec, schema)
                except CodegenError as e:
                    found.append(str(e).removeprefix(f"{spec.qualified_name}: "))
            found += lint_problems(spec, len(result.columns) if result else None)
            problems += [Problem(where, spec.qualified_name, msg) for msg in dict.fromkeys(found)]
            if result is not None and not found:
                analyzed.append(result)
    finally:
        schema.close()
    return analyzed, problems


def render_project(project: Project) -> str:
    analyzed, problems = _analyze_all(project)
    if problems:
        raise CodegenError("the SQL has problems:\n" + "\n".join(f"  {p}" for p in problems))
    return render(analyzed, inputs_sha256(project), project.root, project.output, project.sql_dir)


def generate(project: Project | None = None) -> tuple[Path, int]:
    """Write the typed accessors and the PostgreSQL migrations; returns the file and the number of queries."""
    project = project or Project()
    text = render_project(project)
    project.output.write_text(text, encoding="utf-8")
    for path, pg_sql in render_pg_migrations(project.migrations_dir).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pg_sql, encoding="utf-8")
    return project.output, text.count("    async def ")


def check(project: Project | None = None) -> list[Problem]:
    """Every problem of the SQL and the generated file; empty means all is well."""
    project = project or Project()
    analyzed, problems = _analyze_all(project)
    if problems:
        return problems
    for path, pg_sql in render_pg_migrations(project.migrations_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != pg_sql:
            problems.append(Problem(path.name, "postgres migration", "stale: run `deadlock-bot sql generate`"))
    expected = render(analyzed, inputs_sha256(project), project.root, project.output, project.sql_dir)
    current = project.output.read_text(encoding="utf-8") if project.output.exists() else ""
    if current != expected:
        problems.append(
            Problem(
                str(project.output.relative_to(project.root))
                if project.output.is_relative_to(project.root)
                else str(project.output),
                "generated code",
                "stale: it does not match the SQL files; run `deadlock-bot sql generate` and commit the result",
            )
        )
    return problems
