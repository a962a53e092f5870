"""The coordinator's parts as its config makes them: the state machine with its scheduling
settings, and its bound sockets (each with the frame size it takes, ``transport.sockets``)."""

from __future__ import annotations

from zmr.config import ClusterConfig
from zmr.coordinator.machine import CoordinatorState
from zmr.transport.security import Curve
from zmr.transport.sockets import (
    BEAT_FRAME_BYTES,
    PUB,
    ROUTER,
    SUB,
    Channel,
    bound_channel,
    control_frame_bytes,
)


def make_state(config: ClusterConfig, incarnation: str) -> CoordinatorState:
    """The machine's state; ``incarnation`` is the journal's id, which map outputs carry."""
    interval, liveness = config.heartbeat.interval_s, config.heartbeat.liveness
    return CoordinatorState(
        incarnation=incarnation,
        max_attempts=config.tasks.max_attempts,
        task_timeout_s=config.tasks.task_timeout_s,
        blacklist_after=config.tasks.blacklist_after,
        speculative=config.tasks.speculative,
        slow_factor=config.tasks.speculative_slow_factor,
        min_runtime_s=config.tasks.speculative_min_runtime_s,
        rebalance=config.tasks.rebalance,
        rebalance_min_bytes=config.tasks.rebalance_min_bytes,
        rebalance_min_s=config.tasks.rebalance_min_s,
        # a restarted coordinator waits this long for workers to come back and re-register
        restore_grace_s=config.coordinator.restore_grace_s or interval * liveness * 4,
        no_worker_warning_s=config.coordinator.no_worker_warning_s)


def bound_sockets(config: ClusterConfig,
                  curve: Curve | None) -> tuple[Channel, Channel, Channel]:
    """The control ROUTER (workers and clients), the PUB of the coordinator's beats and the
    SUB of the workers', each taking frames only as large as its largest legitimate
    message, so a peer sending more is cut off by libzmq before it is buffered: a job's
    code with its side files on the control socket, a few KB on the heartbeat ones."""
    control = control_frame_bytes(config.tasks.max_files_size)
    return (_bound(ROUTER, config, "control_port", curve, "control", control),
            _bound(PUB, config, "heartbeat_port", curve, "beats", BEAT_FRAME_BYTES),
            _bound(SUB, config, "report_port", curve, "reports", BEAT_FRAME_BYTES))


def _bound(kind: int, config: ClusterConfig, port_key: str, curve: Curve | None,
           name: str, max_frame: int) -> Channel:
    """A socket bound to one of the coordinator's ports; a port that cannot be bound (in
    use, most often) is an error naming the setting, so the user knows what to change."""
    port = getattr(config.coordinator, port_key)
    return bound_channel(kind, config.endpoint(port_key), name, curve=curve,
                         max_frame=max_frame,
                         setting=f"{config.path}: [coordinator] {port_key} = {port}",
                         hint="is another coordinator running? stop it, or choose another "
                              "port")
