"""A throwaway PostgreSQL server on loopback (Debian's packages): for the test session and for
the multi-replica topology (stack/cluster.py).

It runs `initdb` into a temporary directory and `pg_ctl start` on a free 127.0.0.1 port, as
the `postgres` user when run as root (PostgreSQL refuses to run as root). Each test gets a
fresh database on it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from stack.local import free_port


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.tmp = Path(tempfile.mkdtemp(prefix="cs-pg-"))
        self.data = self.tmp / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root but there is no 'postgres' user") from None
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {proc.stderr.strip()[-500:]}")

    def start(self) -> PostgresServer:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                  "-E", "UTF8", "--locale=C.UTF-8")
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.tmp / "server.log"),
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.tmp} -F", "-w", "-t", "60", "start",
        )
        return self

    def restart(self) -> None:
        """Fault injection: a fast shutdown (open connections are cut) and a start again."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.tmp / "server.log"),
                  "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        except PostgresUnavailable:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
