import socket
import sys
from pathlib import Path

import pytest
import typer

from rtcsim.cli.load import run_time_s
from rtcsim.pipeline.load import MASTER_PORT, free_loopback_port, locust_commands


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("60s", 60), ("2m", 120), ("1h30m", 5400), ("1m5s", 65)]
)
def test_run_time_reads_locust_syntax(text: str, seconds: int) -> None:
    assert run_time_s(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5d", "1.5m"])
def test_a_run_time_locust_would_not_read_is_refused(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        run_time_s(text)


def test_without_workers_one_headless_locust_runs_every_user() -> None:
    [command] = locust_commands(
        Path("f.py"),
        users=6,
        spawn_rate=3,
        run_time_s=40,
        workers=0,
        csv_prefix=Path("/r/stats"),
        stop_timeout_s=20,
    )
    assert command[:5] == [sys.executable, "-m", "locust", "-f", "f.py"]
    assert "--headless" in command
    assert command[command.index("--users") + 1] == "6"
    assert command[command.index("--csv") + 1] == "/r/stats"
    assert "--master" not in command


def test_workers_talk_to_their_master_on_loopback_only() -> None:
    master, *workers = locust_commands(
        Path("f.py"),
        users=6,
        spawn_rate=3,
        run_time_s=40,
        workers=2,
        csv_prefix=Path("/r/stats"),
        stop_timeout_s=20,
        master_port=5600,
    )
    assert master[master.index("--master-bind-host") + 1] == "127.0.0.1"
    assert master[master.index("--expect-workers") + 1] == "2"
    assert len(workers) == 2
    for worker in workers:
        assert worker[worker.index("--master-host") + 1] == "127.0.0.1"
        assert worker[worker.index("--master-port") + 1] == "5600"
        assert "--headless" not in worker


def test_each_run_gets_a_master_port_nobody_listens_on() -> None:
    port = free_loopback_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # free: a second run's master could not share it
    assert 0 < port != MASTER_PORT
