"""Machine signals: the pure state machine, the plain function the REST API calls,
and the MQTT adapter against the real Mosquitto broker on 127.0.0.1:1883."""
import datetime as dt
import json
import uuid

import paho.mqtt.client as mqtt
import pytest

from blocks.equipment.oee import oee_report
from blocks.equipment.signals import (MachineState, MqttAdapter, SignalError, accept_signal, apply_signal,
                                      parse_message, parse_topic)
from tests.conftest import require_server

from .shopfloor import rows, wire

SAT = dt.date(2026, 11, 7)
SHIFTS = [{"name": "A", "start": "06:00", "end": "14:00", "break_minutes": 30},
          {"name": "B", "start": "14:00", "end": "22:00", "break_minutes": 30}]


def t(clock: str) -> dt.datetime:
    return dt.datetime.combine(SAT, dt.time.fromisoformat(clock))


def state(new, clock, reason=None):
    return {"kind": "state", "state": new, "at": t(clock), "reason": reason}


def count(total, good, clock):
    return {"kind": "count", "total": total, "good": good, "at": t(clock)}


def test_state_changes_open_and_close_downtime():
    start = apply_signal(MachineState(), state("running", "07:00"))
    assert (start.state.state, start.open_stop, start.close_stop_at) == ("running", None, None)
    down = apply_signal(start.state, state("down", "08:00"))
    assert down.open_stop == (t("08:00"), "breakdown") and down.close_stop_at is None
    idle = apply_signal(down.state, state("idle", "08:10", reason="material"))
    assert (idle.close_stop_at, idle.open_stop) == (t("08:10"), (t("08:10"), "material"))
    back = apply_signal(idle.state, state("running", "08:20"))
    assert (back.close_stop_at, back.open_stop, back.state.since) == (t("08:20"), None, t("08:20"))
    assert apply_signal(back.state, state("running", "08:25")).state == back.state      # repeated
    assert apply_signal(back.state, state("down", "08:15")).state == back.state         # stale
    assert apply_signal(MachineState(), state("idle", "06:00")).open_stop == (t("06:00"), "idle")


def test_cumulative_counters_become_part_counts():
    first = apply_signal(MachineState(), count(1000, 990, "07:00"))
    assert first.counted is None and (first.state.total, first.state.good) == (1000, 990)  # the baseline
    more = apply_signal(first.state, count(1100, 1085, "08:00"))
    assert more.counted == (t("08:00"), 100, 95)
    reset = apply_signal(more.state, count(7, 7, "09:00"))  # counter reset to 0 at the PLC
    assert reset.counted == (t("09:00"), 7, 7)
    assert apply_signal(reset.state, count(1100, 1085, "08:30")).state == reset.state      # stale
    odd = apply_signal(reset.state, count(10, 20, "09:10"))  # good cannot outrun total
    assert odd.counted == (t("09:10"), 3, 3)
    assert apply_signal(odd.state, count(10, 20, "09:20")).counted is None


def test_bad_messages_and_topics():
    now = t("07:00")
    assert parse_message("count", b'{"total": 5}', now) == {"kind": "count", "at": now, "total": 5, "good": 5}
    assert parse_message("state", '{"state": "down", "at": "2026-11-07T08:00:00"}', now)["at"] == t("08:00")
    for kind, payload, message in [("state", b"{oops", "not JSON"), ("state", b"[1]", "JSON object"),
                                   ("state", b'{"state": "exploded"}', "running, idle, down"),
                                   ("count", b'{"total": -1}', "whole numbers"), ("smell", b"{}", "unknown signal"),
                                   ("state", b'{"state": "down", "at": "noon"}', "not an ISO")]:
        with pytest.raises(SignalError, match=message):
            parse_message(kind, payload, now)
    assert parse_topic("plant", "takt/plant/machines/CNC-1/count") == ("CNC-1", "count")
    with pytest.raises(SignalError):
        parse_topic("plant", "takt/other/machines/CNC-1/count")


MESSAGES = [("state", {"state": "running", "at": "2026-11-07T07:00:00"}),
            ("count", {"total": 1000, "good": 1000, "at": "2026-11-07T07:00:00"}),
            ("state", {"state": "down", "at": "2026-11-07T08:00:00"}),
            ("count", {"total": 1100, "good": 1090, "at": "2026-11-07T08:00:00"}),
            ("state", {"state": "running", "at": "2026-11-07T08:30:00"}),
            ("count", {"total": 1300, "good": 1280, "at": "2026-11-07T13:59:00"}),
            ("count", {"total": 1350, "good": 1340, "at": "2026-11-07T14:30:00"})]


def machine(records, code="CNC-1"):
    records.create("eq_calendar", {"code": "2S", "name": "Two shifts", "shifts": SHIFTS})
    return records.create("eq_machine", {"code": code, "name": "Lathe", "calendar": "2S", "ideal_cycle_minutes": "1"})


def assert_written(records, code="CNC-1"):
    """What MESSAGES leave behind: one 30-minute stop, 300/280 parts in shift A and 50/50 in B."""
    [stop] = rows(records, "eq_downtime")
    assert (stop["started_at"], stop["ended_at"], stop["reason"], stop["source"]) == (t("08:00"), t("08:30"), "breakdown", "signal")
    assert rows(records, "eq_maint_order") == []  # only breakdowns typed in open orders by themselves
    counts = {c["shift"]: (c["total"], c["good"], c["source"]) for c in rows(records, "eq_count")}
    assert counts == {"A": (300, 280, "signal"), "B": (50, 50, "signal")}
    machine = records.find("eq_machine", "code", code)
    assert (machine["state"], machine["state_since"], machine["counter_total"]) == ("running", t("08:30"), 1350)
    shift_a = oee_report(records, code, SAT)["shifts"]["A"]
    assert (shift_a["planned_minutes"], shift_a["run_minutes"]) == (450, 420)
    assert shift_a["oee"] == pytest.approx(420 / 450 * 300 / 420 * 280 / 300)


def test_signals_through_the_plain_function(takt):
    records = wire(takt, "equipment")
    machine(records)
    for kind, payload in MESSAGES:
        accept_signal(records, "CNC-1", kind, payload)
    accept_signal(records, "CNC-1", "state", b'{"state": "running", "at": "2026-11-07T08:40:00"}')  # repeated
    assert_written(records)
    accept_signal(records, "CNC-1", "state", {"state": "idle", "reason": "coffee", "at": "2026-11-07T09:00:00"})
    stop = rows(records, "eq_downtime")[-1]
    assert (stop["reason"], stop["note"], stop["ended_at"]) == ("unclassified", "signal reason: coffee", None)
    with pytest.raises(SignalError, match="no machine 'CNC-9'"):
        accept_signal(records, "CNC-9", "state", {"state": "down"})


@pytest.fixture
def broker():
    require_server("mqtt")


@pytest.mark.mqtt
def test_signals_over_mqtt(broker, takt):
    slug = f"m{uuid.uuid4().hex[:10]}"  # a topic space of its own: tests may run side by side on one broker
    records = wire(takt, "equipment", slug=slug)
    machine(records)
    adapter = MqttAdapter(takt.app, slug, client_id=f"{slug}-adapter")
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{slug}-plc")
    adapter.start()
    try:
        adapter.subscribed.wait()
        publisher.connect("127.0.0.1", 1883)
        publisher.loop_start()
        sent = [*((f"takt/{slug}/machines/CNC-1/{kind}", json.dumps(payload)) for kind, payload in MESSAGES),
                (f"takt/{slug}/machines/CNC-1/state", '{"state": "exploded"}'),
                (f"takt/{slug}/machines/NOPE/state", '{"state": "down"}')]
        for topic, payload in sent:
            publisher.publish(topic, payload, qos=1).wait_for_publish()
        adapter.wait_for(len(sent))
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        adapter.stop()
    assert sorted(message for _, message in adapter.rejected) == [
        "no machine 'NOPE'", "state must be one of running, idle, down, not 'exploded'"]
    assert_written(records)
