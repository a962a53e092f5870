"""``python -m zmr.coordinator conf/cluster.toml``: run a coordinator until stopped."""

from __future__ import annotations

import sys

from zmr.config import load_config
from zmr.coordinator.server import CoordinatorServer
from zmr.core.errors import ZmrError
from zmr.core.process import setup_logging, stop_on_signals


def main(argv: list[str]) -> int:
    setup_logging()
    try:
        server = CoordinatorServer(load_config(argv[0] if argv else None))
    except ZmrError as exc:
        print(f"zmr.coordinator: error: {exc}", file=sys.stderr)
        return exc.exit_code
    stop_on_signals(server)
    server.serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
