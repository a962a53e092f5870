"""A real local cluster (coordinator + worker processes on 127.0.0.1) for cluster tests."""

from __future__ import annotations

import pytest

from zmr.runners.local import LocalCluster


@pytest.fixture(scope="module")
def cluster3(tmp_path_factory):
    with LocalCluster(workers=3, base_dir=str(tmp_path_factory.mktemp("cluster3"))) as c:
        yield c
