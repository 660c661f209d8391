"""The logged model behind `mlflow models serve` (pyfunc REST), on loopback only."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

MLFLOW = str(Path(sys.executable).parent / "mlflow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_mlflow_models_serve_round_trip(trained):
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)  # MLflow execs `uvicorn` from PATH, as in an activated venv
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": trained.cfg.tracking.uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    server = subprocess.Popen(
        [
            MLFLOW,
            "models",
            "serve",
            "-m",
            trained.result.model_uri,
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while True:  # bounded wait for the server to come up
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "server did not start within 90 s"
                time.sleep(1)
        texts = ["أعلنت الشرطة القبض على خلية إرهابية في الرياض", "حذر وزير الداخلية من خطورة الوضع"]
        answer = post(
            f"http://127.0.0.1:{port}/invocations", {"dataframe_records": [{"text": t} for t in texts]}
        )
        rows = answer["predictions"]
        assert len(rows) == 2
        assert all(row["label"] in trained.result.data.label_names for row in rows)
        assert all(abs(sum(v for k, v in row.items() if k.startswith("score_")) - 1) < 1e-6 for row in rows)
    finally:
        server.terminate()
        server.wait(timeout=30)
