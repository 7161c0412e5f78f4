"""What Discord enforces, and the faults a test injects, for the local Discord API."""

from __future__ import annotations

import dataclasses
import enum
import re
import time
from collections import defaultdict, deque
from typing import Any

CATEGORY_LIMIT = 50
GUILD_LIMIT = 500
RENAMES_PER_WINDOW = 2
RENAME_WINDOW = 600.0
INTERACTION_DEADLINE = 3.0


class ApiError(Exception):
    """A Discord error answer: HTTP status and JSON body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message}
        if errors:
            self.body["errors"] = errors
        self.retry_after = retry_after
        if retry_after is not None:
            self.body.update(retry_after=retry_after, **{"global": False})


def form_error(field: str, code: str, message: str) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", {field: {"_errors": [{"code": code, "message": message}]}})


def check_name(name: Any) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def check_room(children_of_category: int | None, channels_in_guild: int) -> None:
    if channels_in_guild >= GUILD_LIMIT:
        raise ApiError(400, 30013, "Maximum number of guild channels reached (500)")
    if children_of_category is not None and children_of_category >= CATEGORY_LIMIT:
        raise form_error(
            "parent_id", "CHANNEL_PARENT_MAX_CHANNELS", "Maximum number of channels in category reached (50)"
        )


class RenameBudget:
    """2 renames per channel per 10 minutes; the third is a 429 with the wait until the window frees."""

    def __init__(self) -> None:
        self._times: dict[int, deque[float]] = defaultdict(deque)
        self.refused = 0

    def spend(self, channel_id: int) -> None:
        now = time.monotonic()
        times = self._times[channel_id]
        while times and now - times[0] >= RENAME_WINDOW:
            times.popleft()
        if len(times) >= RENAMES_PER_WINDOW:
            self.refused += 1
            raise ApiError(
                429, 0, "You are being rate limited.", retry_after=round(RENAME_WINDOW - (now - times[0]), 3)
            )
        times.append(now)


class Order(enum.Enum):
    """When the gateway event of a REST change is dispatched, relative to the HTTP response."""

    BEFORE = "before"
    AFTER = "after"
    LATE = "50 ms after"
    NEVER = "never"


@dataclasses.dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    error: ApiError
    times: int

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and method == self.method and bool(self.path.search(path))


class Faults:
    """Errors to answer instead of doing the call: the next `times` matching calls get them."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self, method: str, path: str, status: int, *, times: int = 1, retry_after: float | None = None, code: int = 0
    ) -> None:
        message = "You are being rate limited." if status == 429 else f"injected {status}"
        self._faults.append(
            Fault(method, re.compile(path), ApiError(status, code, message, retry_after=retry_after), times)
        )

    def take(self, method: str, path: str) -> ApiError | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                return fault.error
        return None
