"""CurveZMQ for every zmr socket: key files, the ZAP authenticator, and the loopback rule.

Workers run whatever code clients send them, so whoever can reach a zmr socket can run code
on every machine of the cluster. With ``[security] curve = true`` every socket (control,
heartbeats, shuffle) speaks CURVE: traffic is encrypted, and each process runs one ZAP
handler (pyzmq's ``zmq.auth`` thread) that admits only the public keys found in the keys
directory's ``authorized/`` folder. Without CURVE every address must be loopback, unless the
config says ``allow_insecure = true``.

Key files are the ZeroMQ certificate files that ``zmq.auth.create_certificates`` writes
(``NAME.key`` public, ``NAME.key_secret`` both halves); ``zmr keygen`` makes them::

    keys/coordinator.key[_secret]     the coordinator's pair (its public key goes to everyone)
    keys/worker.key[_secret]          the pair workers use (one per host if you like)
    keys/client.key[_secret]          the pair clients (zmr submit, status...) use
    keys/authorized/*.key             public keys allowed to connect (workers, clients)
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import socket
import stat
import threading
from dataclasses import dataclass
from typing import Any

import zmq
import zmq.auth

from zmr.core.errors import ConfigError

log = logging.getLogger("zmr.security")
AUTHORIZED = "authorized"
COORDINATOR_KEY = "coordinator"
DEFAULT_KEYS = ("coordinator", "worker", "client")
#: A Curve25519 key in Z85 text.
CURVE_KEY_CHARS = 40


@dataclass(frozen=True)
class Curve:
    """One process's CURVE identity: its key pair, the coordinator's public key (every
    control/heartbeat connection goes there) and the folder of keys it admits."""

    public: bytes
    secret: bytes
    coordinator: bytes
    authorized_dir: str


# -- keys on disk --------------------------------------------------------------------------

def generate_keys(keys_dir: str, names: tuple[str, ...] = DEFAULT_KEYS,
                  force: bool = False) -> list[str]:
    """Write a key pair per name (secret files 0600) and list every non-coordinator public
    key as authorized. Returns the files written; refuses to overwrite without ``force``."""
    os.makedirs(os.path.join(keys_dir, AUTHORIZED), exist_ok=True)
    written = []
    for name in names:
        if not name or "/" in name or name.startswith("."):
            raise ConfigError(f"key name {name!r}: use letters, digits, - and _")
        secret = os.path.join(keys_dir, f"{name}.key_secret")
        if os.path.exists(secret) and not force:
            raise ConfigError(f"{secret} exists (use --force to replace it)")
        old_umask = os.umask(0o077)          # the secret file is never readable by others
        try:
            public, secret = zmq.auth.create_certificates(keys_dir, name)
        finally:
            os.umask(old_umask)
        os.chmod(public, 0o644)
        written += [public, secret]
        if name != COORDINATOR_KEY:
            listed = os.path.join(keys_dir, AUTHORIZED, f"{name}.key")
            shutil.copyfile(public, listed)
            written.append(listed)
    return written


def load_curve(keys_dir: str, own: str) -> Curve:
    """The identity of a process that uses key pair ``own``; a clear ConfigError for any
    missing, unreadable or too-open key file."""
    public, secret = _read_secret(os.path.join(keys_dir, f"{own}.key_secret"))
    coordinator = _read_public(os.path.join(keys_dir, f"{COORDINATOR_KEY}.key"))
    authorized = os.path.join(keys_dir, AUTHORIZED)
    if not os.path.isdir(authorized):
        raise ConfigError(f"{authorized}: no such directory of authorized keys "
                          "(create keys with `zmr keygen`)")
    return Curve(public, secret, coordinator, os.path.abspath(authorized))


def _read_secret(path: str) -> tuple[bytes, bytes]:
    try:
        mode = os.stat(path).st_mode
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read CURVE secret key {path}: {exc} "
                          "(create keys with `zmr keygen`)") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                          f"run chmod 600 {path}")
    if secret is None:
        raise ConfigError(f"{path} holds no secret key")
    return public, secret


def _read_public(path: str) -> bytes:
    try:
        public, _ = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read CURVE public key {path}: {exc}") from None
    return public


# -- sockets -------------------------------------------------------------------------------

def secure_server(sock: zmq.Socket[Any], curve: Curve) -> None:
    """A binding socket: CURVE server, admitting only authorized keys (through ZAP)."""
    _ensure_authenticator(sock.context, curve.authorized_dir)
    sock.curve_secretkey = curve.secret
    sock.curve_publickey = curve.public
    sock.curve_server = True


def secure_client(sock: zmq.Socket[Any], curve: Curve, server_key: bytes | None) -> None:
    """A connecting socket: CURVE client of ``server_key`` (default: the coordinator)."""
    sock.curve_secretkey = curve.secret
    sock.curve_publickey = curve.public
    sock.curve_serverkey = server_key or curve.coordinator


_authenticators: dict[int, _Gatekeeper] = {}
_lock = threading.Lock()


def _ensure_authenticator(ctx: zmq.Context[Any], authorized_dir: str) -> None:
    """One ZAP handler per context (ZeroMQ allows one per context), started on first use,
    so forked task processes start their own."""
    with _lock:
        keeper = _authenticators.get(id(ctx))
        if keeper is None or keeper.pid != os.getpid():
            keeper = _Gatekeeper(ctx, authorized_dir)
            _authenticators[id(ctx)] = keeper


class _Gatekeeper:
    """pyzmq's ThreadAuthenticator with a key check that re-reads ``authorized/`` when it
    changes (add a worker's key without restarting the cluster) and logs every refusal with
    the peer's address."""

    def __init__(self, ctx: zmq.Context[Any], authorized_dir: str) -> None:
        self.pid = os.getpid()
        self.authorized_dir = authorized_dir
        self._keys: set[bytes] = set()
        self._loaded_mtime = -1.0
        self.refused = 0
        from zmr.transport.zap import AddressAwareAuthenticator     # asyncio: only here

        self.auth = AddressAwareAuthenticator(ctx, log=log)
        self.auth.start()
        self.auth.configure_curve_callback("*", credentials_provider=self)

    def callback(self, domain: str, z85_key: bytes) -> bool:
        """Called by the ZAP thread for each CURVE handshake."""
        self._reload()
        if z85_key in self._keys:
            return True
        self.refused += 1
        log.warning("refused a connection from %s: CURVE key %s is not in %s",
                    self.auth.current_address, z85_key.decode(errors="replace"),
                    self.authorized_dir)
        return False

    def _reload(self) -> None:
        try:
            mtime = os.stat(self.authorized_dir).st_mtime
        except OSError:
            self._keys = set()
            return
        if mtime != self._loaded_mtime:
            certs = zmq.auth.load_certificates(self.authorized_dir)
            self._keys = set(certs)
            self._loaded_mtime = mtime


# -- the loopback rule ---------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, or a name that resolves only to those."""
    if host in ("", "*", "0.0.0.0", "::"):
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback
                                   for a in addresses)


def check_exposure(what: dict[str, str], curve_on: bool, allow_insecure: bool,
                   source: str) -> None:
    """Refuse to listen beyond loopback without CURVE, unless insecure is allowed (then
    warn). ``what`` maps a setting's name to the host it names."""
    if curve_on:
        return
    exposed = {name: host for name, host in what.items() if host and not is_loopback(host)}
    if not exposed:
        return
    names = ", ".join(f"{name} = {host!r}" for name, host in exposed.items())
    if not allow_insecure:
        raise ConfigError(f"{source}: {names} is not a loopback address and [security] "
                          "curve is off: anyone who can reach it could run code on this "
                          "cluster. Turn on curve (see `zmr keygen`), or set "
                          "[security] allow_insecure = true")
    log.warning("%s: listening on %s WITHOUT authentication or encryption "
                "([security] allow_insecure = true)", source, names)
