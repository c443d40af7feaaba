"""A non-editable install carries its package data: schema, migrations,
templates, example apps and static files, so ``takt demo`` runs from a wheel."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_holds_package_data_and_runs_demo(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(wheels.glob("takt-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("runtime/schema/app.schema.json", "runtime/migrations/env.py",
                     "runtime/migrations/versions/0001_system_tables.py", "templates/base.html",
                     "example_apps/machining.yaml", "example_apps/machining.data.yaml", "runtime/static/takt.css"):
        assert expected in names, f"{expected} missing from the wheel"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, cwd=tmp_path)
    # -S: no site processing, so the editable install of the checkout cannot leak in.
    path = os.pathsep.join([str(site), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {**os.environ, "PYTHONPATH": path, "TAKT_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-S", "-c", "from runtime.cli import main; main()", "demo", "--no-serve"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "login: admin / takt-admin" in result.stdout
    where = subprocess.run([sys.executable, "-S", "-c", "import runtime; print(runtime.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True).stdout
    assert where.startswith(str(site))
