"""The ZAP handler of a CURVE-secured process (``security.py``), in a module of its own:
pyzmq's ``ThreadAuthenticator`` imports asyncio (0.05 s), which only a cluster with
security on needs."""

from __future__ import annotations

from zmq.auth.thread import ThreadAuthenticator


class AddressAwareAuthenticator(ThreadAuthenticator):
    """Remembers the address of the ZAP request being handled (frames: version, id, domain,
    address, ...), which the key check itself is not told. ZAP requests are handled one at
    a time, so the attribute always belongs to the current one."""

    current_address = "?"

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        if len(msg) > 3:
            self.current_address = msg[3].decode(errors="replace")
        await super().handle_zap_message(msg)
