"""The embedded Redis of a VAR_DIR (config.servers): a process that finds it up but not answering (loading
its AOF, busy) waits for it and never starts a second server on the same files."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import redis

from config import embedded

ROOT = Path(__file__).resolve().parents[2]
JOIN = ("import sys; from pathlib import Path; from config import servers; "
        "servers.start_redis(Path(sys.argv[1])); print('joined', flush=True); sys.stdin.read()")


def join(var_dir: Path, *, stay: bool) -> subprocess.Popen:
    """A process that starts or joins the embedded Redis of ``var_dir``; with ``stay``, it leaves (and lets
    go of the server, the last one stopping it) when its stdin is closed."""
    return subprocess.Popen([sys.executable, "-c", JOIN, str(var_dir)], cwd=ROOT, stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE if stay else subprocess.DEVNULL, text=True)


def servers_of(var_dir: Path) -> list[psutil.Process]:
    data_dir = embedded.redis_dir(var_dir).resolve()
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if "redis-server" in (process.info["name"] or "") and Path(process.cwd()) == data_dir:
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_a_busy_server_is_waited_for_not_doubled(tmp_path):
    """A server that answers only errors for a while (BUSY under a long script, LOADING while it reads a large
    AOF) is still the server of these files: the old check took the error for "no server", removed its
    socket and started a second redis-server writing the same AOF."""
    first = join(tmp_path, stay=True)
    try:
        assert first.stdout.readline().strip() == "joined"
        [server] = servers_of(tmp_path)
        socket = str(embedded.redis_socket(tmp_path))
        client = redis.Redis(unix_socket_path=socket)
        client.set("kept", "1")
        client.config_set("lua-time-limit", 100)  # BUSY to everyone else 0.1 s into a script
        busy = threading.Thread(target=lambda: _ignore(lambda: redis.Redis(unix_socket_path=socket).eval(
            "local n = 0 while true do n = n + 1 end", 0)), daemon=True)
        busy.start()
        time.sleep(0.5)
        with pytest.raises(redis.RedisError, match="BUSY"):
            client.ping()
        second = join(tmp_path, stay=False)
        try:
            time.sleep(3)
            assert second.poll() is None  # waiting for the server to answer
            assert [p.pid for p in servers_of(tmp_path)] == [server.pid]
        finally:
            client.script_kill()
        assert second.stdout.readline().strip() == "joined"
        assert second.wait(timeout=30) == 0
        assert [p.pid for p in servers_of(tmp_path)] == [server.pid]
        assert client.get("kept") == b"1"
    finally:
        first.stdin.close()
        first.wait(timeout=30)
    deadline = time.monotonic() + 10  # the last user gone, the server stops
    while servers_of(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert servers_of(tmp_path) == []


def _ignore(call) -> None:
    try:
        call()
    except redis.RedisError:
        pass  # the script killed


def test_a_dead_servers_pid_file_does_not_stop_a_new_start(tmp_path):
    data_dir = embedded.redis_dir(tmp_path)
    data_dir.mkdir(parents=True)
    (data_dir / "redis.pid").write_text(str(os.getpid()))  # a live pid, but no redis-server of this directory
    process = join(tmp_path, stay=False)
    assert process.stdout.readline().strip() == "joined"
    assert process.wait(timeout=30) == 0
