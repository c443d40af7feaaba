"""100 concurrent scan reports to one operation through the running server's
REST API on PostgreSQL: exact totals, retries with the same client id count once."""
from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

from runtime.db import get_db
from runtime.users import create_token, create_user
from tests.blocks.shopfloor import wire, work_order
from tests.conftest import TaktHarness, make_flask_app


def post(url, token, body, key):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_hundred_concurrent_reports_through_the_api(database_url, tmp_path):
    app = make_flask_app(database_url, tmp_path)
    takt = TaktHarness(app)
    records = wire(takt)
    first, _ = work_order(records, quantity=1000)
    records.create("wo_report", {"operation": first["id"], "kind": "start"})
    with takt.db.write() as conn:
        token = create_token(conn, create_user(conn, "kiosk", "long-enough", ["admin"]), "kiosk")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/apps/plant/wo_report"
    statuses, errors = [], []

    def report(n):
        body = {"operation": first["id"], "kind": "report", "good_qty": 2, "scrap_qty": 1 if n % 5 == 0 else 0}
        try:
            statuses.append(post(url, token, body, f"kiosk-1-{n}"))
            if n % 10 == 0:  # the answer was lost: the kiosk sends the same report again
                statuses.append(post(url, token, body, f"kiosk-1-{n}"))
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(100)]
    try:
        [t.start() for t in threads]
        [t.join() for t in threads]
    finally:
        server.shutdown()
        thread.join()
    assert errors == [] and set(statuses) <= {200, 201}
    op = records.get("wo_operation", first["id"])
    assert (op["good_qty"], op["scrap_qty"], op["wip"]) == (200, 20, 1000 - 220)
    get_db(app).dispose()
