"""zmr.Client against a peer on a real loopback ROUTER socket: the client validates the job
before sending anything, and a silent, refusing or confused coordinator is a ZmrError."""

from __future__ import annotations

import threading

import pytest

from zmr.client import Client
from zmr.config import load_config, write_config
from zmr.core.errors import (
    ClusterUnreachableError,
    JobDefinitionError,
    OutputError,
    ZmrError,
    refused_as,
)
from zmr.protocol.messages import Ack, ErrorReply, Message, StatusRequest
from zmr.transport.sockets import ROUTER, Channel, free_port, make_socket, poll


@pytest.fixture()
def config(tmp_path):
    path = str(tmp_path / "cluster.toml")
    write_config(path, {("coordinator", "control_port"): free_port()})
    return load_config(path)


class Peer(threading.Thread):
    """A coordinator stand-in that answers every request with ``answer`` (None: silence)
    and remembers what it received."""

    def __init__(self, config, answer: Message | None) -> None:
        super().__init__(daemon=True)
        self.channel = Channel(make_socket(ROUTER, bind=config.endpoint("control_port")), "p")
        self.answer = answer
        self.received: list[Message] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            if poll([self.channel], 0.05) and (got := self.channel.recv()) is not None:
                self.received.append(got[1])
                if self.answer is not None:
                    self.channel.send(self.answer, to=got[0])
        self.channel.close()

    def __enter__(self) -> Peer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(5)


def test_no_coordinator_is_an_error_after_the_timeout(config):
    client = Client(config, timeout_s=0.3)
    with pytest.raises(ZmrError, match="did not answer within 0.3s .is it running"):
        client.status()
    client.close()


def test_a_refusal_carries_the_coordinators_reason(config):
    with Peer(config, ErrorReply("no such job: job-9")), Client(config, 5.0) as client:
        with pytest.raises(ZmrError, match="no such job: job-9"):
            client.status("job-9")


@pytest.mark.parametrize("error, raised", [("OutputError", OutputError), ("", ZmrError),
                                           ("SystemExit", ZmrError)])   # never looked up
def test_a_named_refusal_is_raised_as_that_error(config, error, raised):
    with Peer(config, ErrorReply("output /o contains the input /o/i", error)), \
            Client(config, 5.0) as client:
        with pytest.raises(ZmrError, match="contains the input") as caught:
            client.status("job-9")
    assert type(caught.value) is raised
    assert caught.value.exit_code == (2 if raised is OutputError else 1)


def test_a_refusal_is_named_by_its_nearest_listed_class():
    class Sub(OutputError):
        pass
    assert refused_as(Sub("x")) == "OutputError"
    assert refused_as(ZmrError("x")) == ""


def test_a_reply_of_the_wrong_kind_is_an_error_not_a_crash(config):
    with Peer(config, Ack("?")) as peer, Client(config, 5.0) as client:
        with pytest.raises(ZmrError, match="answered StatusRequest with Ack"):
            client.workers()
    assert peer.received == [StatusRequest("", brief=True)]


def test_a_bad_job_module_is_refused_before_anything_is_sent(config, tmp_path):
    (tmp_path / "in.txt").write_text("a\n")
    (tmp_path / "bad.py").write_text("def reducer(k, vs):\n    yield k, 1\n")   # no mapper
    with Peer(config, Ack()) as peer, Client(config, 5.0) as client:
        with pytest.raises(JobDefinitionError, match="bad.py"):
            client.submit(str(tmp_path / "bad.py"), [str(tmp_path / "in.txt")],
                          str(tmp_path / "out"))
    assert peer.received == []


def test_the_reply_timeout_is_the_client_timeout_setting(tmp_path):
    path = str(tmp_path / "slow.toml")
    write_config(path, {("coordinator", "control_port"): free_port(),
                        ("client", "timeout_s"): 0.3})
    with Client(path) as client, pytest.raises(ClusterUnreachableError,
                                               match=r"did not answer within 0\.3s"):
        client.status()
    assert Client(path, timeout_s=2.0).timeout_s == 2.0     # an explicit one wins
