"""The data the generator works on: queries as aiosql parsed them, and what it inferred."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path


class Op(enum.Enum):
    """aiosql's operator suffix, named after what the generated method returns."""

    SELECT = ""  # all rows
    SELECT_ONE = "^"  # first row or None
    SELECT_VALUE = "$"  # first column of the first row or None
    EXECUTE = "!"  # rowcount
    INSERT_ROWID = "<!"  # lastrowid
    EXECUTE_MANY = "*!"  # executemany, returns None
    SCRIPT = "#"  # executescript: commits, so it is forbidden outside migrations


@dataclasses.dataclass(frozen=True)
class QuerySpec:
    """One named query, exactly as aiosql loaded it."""

    namespace: str
    name: str
    op: Op
    sql: str
    declared_params: tuple[str, ...] | None
    doc: str
    file: Path
    line: int

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    def where(self, root: Path) -> str:
        try:
            rel = self.file.resolve().relative_to(root.resolve())
        except ValueError:
            rel = self.file
        return f"{rel}:{self.line}"


@dataclasses.dataclass(frozen=True)
class TypedName:
    """A result column or a parameter: its Python type and whether it can be None."""

    name: str
    pytype: str
    nullable: bool

    @property
    def annotation(self) -> str:
        return f"{self.pytype} | None" if self.nullable else self.pytype


@dataclasses.dataclass(frozen=True)
class AnalyzedQuery:
    spec: QuerySpec
    is_write: bool
    columns: tuple[TypedName, ...]
    params: tuple[TypedName, ...]
    exactly_one_row: bool
    row_name: str | None = None  # from `-- @row Name`
    non_negative: tuple[str, ...] = ()  # LIMIT/OFFSET parameters: the accessor refuses negative values


@dataclasses.dataclass(frozen=True)
class Problem:
    """A finding of `sql check`; every one of them fails the check."""

    where: str
    query: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.query}: {self.message}"


class CodegenError(Exception):
    """The SQL cannot be turned into typed accessors; the message says where and why."""
