"""Start-up of `paratype-predict` for one paragraph, as a user runs it (target: median <= 1.5 s).

In a fresh workspace (PARATYPE_ROOT): train TF-IDF on the seeds, make it the champion, then
time `paratype-predict` on one paragraph: once with nothing cached, then 5 times as a user
would (the champion's folder is remembered per store). Then the breakdown of one start-up,
phase by phase, in a fresh interpreter.

    python benchmarks/startup.py
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PARAGRAPH = {"id": 1, "text": "أعلنت وزارة الداخلية القبض على خلية إرهابية في الرياض"}

PHASES = """
import time, sys
t0 = time.perf_counter(); marks = []
def mark(name): marks.append((name, time.perf_counter()))
from pathlib import Path
from paratype import local_model, predict
mark("import paratype.predict, local_model (numpy)")
from paratype.config import compose, to_config
cfg = to_config(compose([])); mark("compose and validate the config (Hydra)")
uri, source = local_model.resolve(None, cfg.tracking, Path(cfg.paths.cache_dir))
mark("resolve the champion (remembered per store)")
model = local_model.load(source, cfg.tracking); mark("load the model (its arrays)")
import io
items = predict.read_items(io.BufferedReader(io.BytesIO(sys.argv[1].encode())), "auto")
records = [r for b in predict.batched(items, 64) for r in predict.label_batch(model, b)]
mark("label one paragraph")
previous = t0
for name, at in marks:
    print(f"{name}\\t{at - previous:.3f}"); previous = at
print(f"total in the interpreter\\t{previous - t0:.3f}")
"""


def _run(args: list[str], env: dict, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, input=stdin, capture_output=True, check=True)


def _timed_predict(env: dict, line: bytes) -> float:
    started = time.perf_counter()
    _run([str(BIN / "paratype-predict")], env, line)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"PARATYPE_ROOT": tmp}
        trained = _run([str(BIN / "paratype-train"), "data=seeds", "page.path="], env).stdout.decode()
        run_id = re.search(r"run:\s+(\w+)", trained).group(1)
        _run([str(BIN / "paratype-champion"), "--run", run_id], env)
        line = json.dumps(PARAGRAPH, ensure_ascii=False).encode()
        cold = _timed_predict(env, line)
        warm = [_timed_predict(env, line) for _ in range(5)]
        phases = _run([sys.executable, "-c", PHASES, line.decode()], env).stdout.decode()
    print("| what | seconds |\n|---|--:|")
    print(f"| first start-up (nothing cached: champion looked up in the store) | {cold:.2f} |")
    median = statistics.median(warm)
    print(f"| start-up, median of 5 (one paragraph, champion from a SQLite store) | {median:.2f} |")
    print(f"| the 5 runs | {' / '.join(f'{t:.2f}' for t in warm)} |")
    print("\n| phase of one start-up (fresh interpreter) | seconds |\n|---|--:|")
    for row in phases.strip().splitlines():
        name, seconds = row.split("\t")
        print(f"| {name} | {float(seconds):.2f} |")
    verdict = "meets" if median <= 1.5 else "misses"
    print(f"\nstart-up {verdict} the 1.5 s target")


if __name__ == "__main__":
    main()
