"""``python -m zmr.coordinator conf/cluster.toml``: run a coordinator until stopped."""

from __future__ import annotations

import logging
import signal
import sys

from zmr.config import load_config
from zmr.coordinator.server import CoordinatorServer
from zmr.errors import ZmrError


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        server = CoordinatorServer(load_config(argv[0] if argv else None))
    except ZmrError as exc:
        print(f"zmr.coordinator: error: {exc}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: object) -> None:
        server.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
