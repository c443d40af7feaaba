"""Create-record throughput through the runtime's REST API vs. a hand-written
minimal Flask + SQLAlchemy endpoint, both under gunicorn with the same worker
count and the same PostgreSQL database, driven by wrk on loopback; plus the
server time of a 50-row list page.

    .venv/bin/python benchmarks/bench_api.py [--workers 2] [--seconds 10] [--database URL]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime import migrate  # noqa: E402
from runtime.app import create_app  # noqa: E402
from runtime.db import get_db  # noqa: E402
from runtime.publish import publish  # noqa: E402
from runtime.users import create_token, create_user  # noqa: E402

APP = {"slug": "bench", "tables": [{"name": "item", "fields": [
    {"name": "code", "type": "text", "required": True},
    {"name": "qty", "type": "integer", "min": 0},
    {"name": "note", "type": "text"}]}]}
LUA = """
wrk.method = "POST"
wrk.body = '{"code": "C-1", "qty": 5, "note": "bench"}'
wrk.headers["Content-Type"] = "application/json"
{auth}
"""


def prepare(url: str, folder: str):
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench", "REDIS_URL": ""})
    database = get_db(app)
    migrate.upgrade(database)
    publish(database, APP)
    with database.write() as conn:
        user_id = create_user(conn, "bench", "bench-password", ["admin"])
        token = create_token(conn, user_id, "bench")
    return app, token


def serve(target: str, port: int, workers: int, env: dict):
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", target]
    process = subprocess.Popen(command, cwd=ROOT / "benchmarks", env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here", timeout=1)
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def wrk(url: str, auth: str, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.replace("{auth}", auth))
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", script.name, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups() for p in ("50", "99")}
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {"rps": rps, **{f"p{p}": float(v) * scale[u] for p, (v, u) in latency.items()}}


def list_page_times(app, n=200) -> list[float]:
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-password",
                                "csrf_token": _csrf(client)})
    times = []
    for _ in range(n):
        began = time.perf_counter()
        response = client.get("/apps/bench/item?per_page=50")
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def _csrf(client) -> str:
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf_token"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.database)
    with admin.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    url = f"{args.database}?options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            app, token = prepare(url, folder)
            env = {**os.environ, "DATABASE_URL": url, "TAKT_INSTANCE_PATH": folder, "TAKT_SECRET_KEY": "bench",
                   "PYTHONPATH": str(ROOT)}
            env.pop("REDIS_URL", None)
            results = {}
            for name, target, port, path, auth in (
                    ("hand-written", "baseline_app:create_app()", 18071, "/items", ""),
                    ("takt API", "runtime.app:create_app()", 18072, "/api/v1/apps/bench/item",
                     f'wrk.headers["Authorization"] = "Bearer {token}"')):
                server = serve(target, port, args.workers, env)
                try:
                    results[name] = wrk(f"http://127.0.0.1:{port}{path}", auth, args.seconds)
                finally:
                    server.terminate()
                    server.wait()
            for name, r in results.items():
                print(f"{name:13s} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms")
            ratio = results["takt API"]["rps"] / results["hand-written"]["rps"]
            print(f"throughput ratio takt/hand-written: {ratio:.2f} (target >= 0.60: {'met' if ratio >= 0.6 else 'MISSED'})")
            times = list_page_times(app)
            p50 = statistics.median(times)
            print(f"50-row list page server time: p50 {p50:.1f} ms, p90 {sorted(times)[int(len(times) * 0.9)]:.1f} ms "
                  f"(target p50 < 15 ms: {'met' if p50 < 15 else 'MISSED'})")
    finally:
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
