"""Database URLs: which forms name PostgreSQL, and how to show one without its password."""

from __future__ import annotations

import re
import urllib.parse

#: The schemes people write for PostgreSQL (libpq's two and SQLAlchemy's asyncpg form).
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")

_SECRET_QUERY = re.compile(r"(?i)([?&](?:password|pass|pwd|sslpassword)=)[^&#]*")


def scheme_of(value: str) -> str | None:
    """The URL scheme of `value` (`postgresql`, `sqlite`, `mysql`, ...), None for a plain path."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):/", value)
    return m[1].lower() if m and len(m[1]) > 1 else None  # one letter: a Windows drive (C:/...)


def is_postgres_url(value: str | None) -> bool:
    return bool(value) and scheme_of(str(value)) in POSTGRES_SCHEMES


def redact_url(url: str) -> str:
    """The URL without its password (user info and ?password=), for logs and messages."""
    url = _SECRET_QUERY.sub(r"\1***", url)
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:  # a malformed netloc: hide everything between :// and @
        return re.sub(r"(://[^/@]*:)[^/@]*@", r"\1***@", url)
    if password is None:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def url_password(url: str) -> str | None:
    """The password a URL carries (in its user info or as ?password=), to keep it out of output."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password:
            return urllib.parse.unquote(parts.password)
        for key, value in urllib.parse.parse_qsl(parts.query):
            if key.lower() in ("password", "pass", "pwd", "sslpassword") and value:
                return value
    except ValueError:
        m = re.search(r"://[^/@]*:([^/@]*)@", url)
        return m[1] if m and m[1] else None
    return None
