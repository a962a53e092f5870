"""A local cluster with its dashboard on a free loopback port, and jobs to look at."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from zmr.runners.local import LocalCluster


class Dashboard:
    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.url = f"http://127.0.0.1:{cluster.client.config.dashboard.port}"

    def get(self, path: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.status, r.headers["Content-Type"], r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers["Content-Type"], e.read()

    def json(self, path: str) -> Any:
        status, content_type, body = self.get(path)
        assert status == 200 and content_type == "application/json", (status, body[:200])
        return json.loads(body)


@pytest.fixture()
def dashboard(tmp_path):
    with LocalCluster(workers=2, base_dir=str(tmp_path / "cluster"), max_attempts=2) as c:
        yield Dashboard(c)

