"""The external claim bot: told about each finished coaching session over TCP.

Wire format as the old bot sent it: a 4-byte big-endian length, then UTF-8 JSON. Uses
asyncio streams with a timeout, so a slow or absent claim bot never blocks the event loop;
a failure is logged and reported as False (the session is closed either way).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from typing import Any, Protocol

log = logging.getLogger(__name__)


class ClaimNotifier(Protocol):
    async def notify(self, payload: dict[str, Any]) -> bool: ...


class TcpClaimNotifier:
    def __init__(self, host: str = "localhost", port: int = 45680, timeout: float = 5.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    async def notify(self, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            async with asyncio.timeout(self.timeout):
                _reader, writer = await asyncio.open_connection(self.host, self.port)
                try:
                    writer.write(struct.pack(">I", len(body)) + body)
                    await writer.drain()
                finally:
                    writer.close()
                    await writer.wait_closed()
        except (OSError, TimeoutError) as e:
            log.warning("claim bot at %s:%s not reached (%s); the session is closed anyway", self.host, self.port, e)
            return False
        return True
