"""Helpers for the shop-floor block tests: apps made of blocks, wired like production
(automations on), and a work order with its operations to attach things to.

The blocks are taken with ``Block(name, package)`` directly, so the tests do not
depend on the entry points in setup.cfg being installed."""
from __future__ import annotations

from blocks.registry import Block, get
from runtime import automations, service
from runtime.blocks import add_block
from runtime.listing import Filter, ListQuery
from runtime.permissions import Actor

SHOP_BLOCKS = ("quality", "andon", "equipment", "traceability")


def block(name: str) -> Block:
    found = get(name) if name == "work_orders" else Block(name, f"blocks.{name}")
    found.load_actions()
    return found


def app_doc(*names: str, slug: str = "plant", params: dict | None = None) -> dict:
    """An app made of work_orders (when a block needs it) and the named blocks, in order."""
    doc = {"slug": slug, "tables": []}
    for name in ("work_orders", *names) if "work_orders" not in names else names:
        doc = add_block(doc, block(name), (params or {}).get(name))
    return doc


def wire(takt, *names: str, slug: str = "plant"):
    """Publish an app of these blocks with automations running, as the web app has them."""
    automations.init_app(takt.app)
    takt.publish(app_doc(*names, slug=slug))
    return records(takt, slug)


def records(takt, slug: str = "plant", actor: Actor | None = None):
    return service.records_for(takt.app, slug, actor or Actor.system("test"))


def work_order(records, quantity: int = 10, product: str = "P1", station: str = "ST-1") -> list[dict]:
    """A work order of a two-step product; returns its operations (seq 10 and 20)."""
    if records.find("wo_workstation", "code", station) is None:
        records.create("wo_workstation", {"code": station, "name": f"Station {station}", "area": "A1"})
    if records.find("wo_product", "code", product) is None:
        records.create("wo_product", {"code": product, "name": f"Product {product}", "routing": [
            {"seq": 10, "operation": "Turn", "workstation": station},
            {"seq": 20, "operation": "Mill", "workstation": station}]})
    order = records.create("wo_order", {"product": product, "quantity": quantity})
    query = ListQuery(filters=[Filter("order", "eq", order["id"])], sort=[("seq", False)])
    return records.list("wo_operation", query).rows


def rows(records, table: str, **equal) -> list[dict]:
    """The records of ``table`` whose fields equal the given values, oldest first."""
    query = ListQuery(filters=[Filter(k, "eq", v) for k, v in equal.items()], sort=[("id", False)], per_page=500)
    return records.list(table, query).rows
