"""A real Dovecot IMAP server for the tests, on loopback ports, in a throwaway folder.

Dovecot comes from Debian's ``dovecot-imapd`` (``scripts/test`` installs it). It
runs in the foreground with its own configuration file, reads nothing from
/etc/dovecot, and runs as one unprivileged account: the current user, or, when
the tests run as root, the ``dovecot`` system account the package creates.

The server has a plain/STARTTLS listener and an implicit-TLS listener, a
self-signed certificate for ``localhost`` (so ``127.0.0.1`` is the wrong host
name for it), one test user, and folders with SPECIAL-USE flags.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

USER = "client-mail@agency.example"
PASSWORD = "s3cret-test-Pa55word"  # a known value the log tests look for
DRAFTS = "Borradores"  # the \Drafts folder; the config may say "Drafts"

_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/log/dovecot.log
info_log_path = {base}/log/dovecot.log
default_login_user = {account}
default_internal_user = {account}
default_internal_group = {group}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = 0
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 1 secs
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox {drafts} {{
    special_use = \\Drafts
    auto = {drafts_auto}
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Billing {{
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth-worker {{
  user = {account}
}}
"""


def free_ports(count: int) -> list[int]:
    """``count`` different loopback ports free now: every socket is held until all are
    bound, so the system cannot hand one port out twice (Dovecot refuses a
    configuration that listens twice on one port)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Dovecot:
    """One running Dovecot; ``stop`` ends it and removes its folder."""

    def __init__(self, certificate: tuple[Path, Path] | None = None,
                 ca: Path | None = None, drafts_auto: bool = True) -> None:
        """``certificate``: a (cert.pem, key.pem) to serve instead of a new self-signed
        one, and ``ca`` the certificate of the CA that signed it; ``drafts_auto=False``:
        the server does not create its Drafts folder by itself."""
        self.drafts_auto = drafts_auto
        if shutil.which("dovecot") is None:
            raise RuntimeError(
                "Dovecot is not installed; scripts/test installs it (Debian: dovecot-imapd)"
            )
        if os.geteuid() == 0:
            account = pwd.getpwnam("dovecot")
        else:
            account = pwd.getpwuid(os.getuid())
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.account = account.pw_name
        # Short path: Dovecot's unix sockets live under it (108-byte limit).
        self.base = Path(tempfile.mkdtemp(prefix="tdc", dir="/tmp"))
        self.port, self.tls_port = free_ports(2)
        self.process: subprocess.Popen[bytes] | None = None
        self.certificate = certificate
        self.ca = ca
        self._write_files()

    # --- set-up -------------------------------------------------------------

    def _write_files(self) -> None:
        for sub in ("run", "state", "log", "home"):
            (self.base / sub).mkdir()
        if self.certificate is not None:
            shutil.copyfile(self.certificate[0], self.base / "cert.pem")
            shutil.copyfile(self.certificate[1], self.base / "key.pem")
        else:
            subprocess.run(  # noqa: S603 - fixed arguments
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                 "-keyout", str(self.base / "key.pem"), "-out", str(self.base / "cert.pem")],
                check=True, capture_output=True,
            )
        (self.base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        group = self.account if os.geteuid() == 0 else _group_name(self.gid)
        self.conf = self.base / "dovecot.conf"
        self.conf.write_text(_CONF.format(
            base=self.base, account=self.account, group=group, uid=self.uid, gid=self.gid,
            port=self.port, tls_port=self.tls_port, drafts=DRAFTS,
            drafts_auto="subscribe" if self.drafts_auto else "no",
        ), encoding="utf-8")
        self.base.chmod(0o755)
        for path in [self.base, *self.base.rglob("*")]:
            os.chown(path, self.uid, self.gid)

    @property
    def ca_file(self) -> Path:
        return self.ca or self.base / "cert.pem"

    # --- running ------------------------------------------------------------

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["dovecot", "-F", "-c", str(self.conf)],
            user=self.uid if os.geteuid() == 0 else None,
            group=self.gid if os.geteuid() == 0 else None,
            extra_groups=[] if os.geteuid() == 0 else None,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            # Its own process group, so that stopping it ends every process it
            # started (client sessions included), as a real server stop does.
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                # communicate() also closes the pipe, which would otherwise be left
                # for the garbage collector to report in some later test.
                err = (self.process.communicate()[1] or b"").decode()
                raise RuntimeError(f"dovecot exited: {err}\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        # Children (imap processes) go with the master; wait until the port is free.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                time.sleep(0.1)
            except OSError:
                return

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def log(self) -> str:
        path = self.base / "log" / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def doveadm(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["doveadm", "-c", str(self.conf), *args],
            user=self.uid if os.geteuid() == 0 else None,
            group=self.gid if os.geteuid() == 0 else None,
            extra_groups=[] if os.geteuid() == 0 else None,
            capture_output=True, check=False, timeout=30,
        )
        if done.returncode not in ok:
            raise RuntimeError(f"doveadm {' '.join(args)}: exit {done.returncode}: "
                               f"{done.stderr.decode(errors='replace')}")
        return done.stdout.decode()

    def kick(self) -> None:
        """Drop every session of the test user (a dropped connection)."""
        self.doveadm("kick", USER, ok=(0, 68))  # 68: nobody was connected

    def set_uidvalidity(self, folder: str, value: int) -> None:
        self.doveadm("mailbox", "update", "-u", USER, "--uid-validity", str(value), folder)

    # --- a client of the test's own ---------------------------------------

    def client(self) -> IMAPClient:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = IMAPClient("localhost", port=self.tls_port, ssl=True, ssl_context=context,
                            timeout=30)
        client.login(USER, PASSWORD)
        return client

    def append(self, folder: str, messages: list[bytes], flags: tuple[bytes, ...] = ()) -> None:
        client = self.client()
        try:
            for raw in messages:
                client.append(folder, raw, flags=flags)
        finally:
            client.logout()

    def flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        client = self.client()
        try:
            client.select_folder(folder, readonly=True)
            return {uid: data[b"FLAGS"] for uid, data in
                    client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}
        finally:
            client.logout()


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name
