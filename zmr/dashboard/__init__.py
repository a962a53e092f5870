"""The coordinator's web dashboard: pages, JSON API and Prometheus metrics, all computed
from an immutable snapshot of the coordinator's state (see ``snapshot.py``)."""
