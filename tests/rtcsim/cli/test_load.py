import socket
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rtcsim.cli import app
from rtcsim.cli.load import run_time_s
from rtcsim.pipeline.load import MASTER_PORT, free_loopback_port, locust_commands
from rtcsim.pipeline.load_worker import worker_env
from simulator.load.session import RUN_DIR_ENV, RUN_ID_ENV


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


def test_a_master_with_remote_workers_expects_them_all_and_starts_only_its_local_ones() -> None:
    master, *workers = locust_commands(
        Path("f.py"),
        users=12,
        spawn_rate=4,
        run_time_s=60,
        workers=1,
        csv_prefix=Path("/r/stats"),
        stop_timeout_s=20,
        master_port=5557,
        master_host="198.18.100.10",
        remote_workers=2,
    )
    assert master[master.index("--master-bind-host") + 1] == "198.18.100.10"
    assert master[master.index("--expect-workers") + 1] == "3"
    assert len(workers) == 1
    assert workers[0][workers[0].index("--master-host") + 1] == "198.18.100.10"


def test_a_worker_gets_its_run_id_from_the_master_not_from_its_environment() -> None:
    env = worker_env(server="janus")
    assert env[RUN_ID_ENV] == ""  # marked as rtcsim's (not a plain locust), id left to the master
    assert RUN_DIR_ENV not in env
    assert env["LOCUST_SKIP_MONKEY_PATCH"] == "1"
    assert worker_env(run_dir=Path("/r/worker-1"))[RUN_DIR_ENV] == "/r/worker-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--worker"], "--worker needs --master-host"),
        (["--worker", "--master-host", "h", "--workers", "2"], "--worker takes only"),
        (["--master-host", "h"], "--master-host is for --worker"),
    ],
)
def test_a_worker_or_master_option_out_of_place_is_refused_with_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    locustfile = tmp_path / "f.py"
    locustfile.write_text("")
    result = CliRunner().invoke(app, ["load", str(locustfile), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
