"""The Prometheus endpoint of a running gateway: scraped over HTTP before and after traffic."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest_twisted
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import reactor, threads

from smsgw.net.metrics import GatewayMetrics, Sources
from smsgw.store.accounts import find_login
from tests.admin.gateway import start_gateway
from tests.admin.smpp import Client
from tests.links.carriers import wait_for


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, "", ""


async def scrape(port: int, path: str = "/metrics") -> tuple[int, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """The HTTP status and every sample, by (name, labels)."""
    code, content_type, body = await threads.deferToThread(_get, f"http://127.0.0.1:{port}{path}")
    samples = {}
    if code == 200:
        assert content_type.startswith("text/plain")
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return code, samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest_twisted.ensureDeferred
async def test_counters_move_after_a_submission(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    client = Client(gw.listening.smpp)
    try:
        await wait_for(lambda: gw.groups["cmcc-sim"].state.up, 10, "the CMPP link")
        code, before = await scrape(gw.listening.metrics)
        assert code == 200
        link = {"link": "cmcc-sim", "protocol": "cmpp30", "carrier": "cmcc"}
        assert value(before, "smsgw_link_up", **link) == 1
        assert value(before, "smsgw_link_window", **link) == 32  # window 16 on 2 connections
        assert value(before, "smsgw_smpp_requests_total", command="submit_sm", status="0x00000000") == 0

        assert await client.bind("demo", "demo") == 0
        resp = await client.submit("13800138000", "metrics please")
        assert resp.status == 0
        await wait_for(lambda: gw.notifier.sent >= 1, 15, "the receipt to be sent")
        code, after = await scrape(gw.listening.metrics)
        demo = str((await gw.store.read(find_login, "demo"))[0].id)
        assert value(after, "smsgw_smpp_requests_total", command="submit_sm", status="0x00000000") == 1
        assert value(after, "smsgw_smpp_request_seconds_count", command="submit_sm") == 1
        assert 0 < value(after, "smsgw_smpp_request_seconds_sum", command="submit_sm") < 5
        assert value(after, "smsgw_messages_accepted_total", account=demo, carrier="cmcc", state="queued") == 1
        assert value(after, "smsgw_store_accept_seconds_count") == 1
        assert value(after, "smsgw_segments_submitted_total", carrier="cmcc", link="cmcc-sim") == 1
        assert value(after, "smsgw_dispatcher_segments_total", outcome="submitted") == 1
        assert value(after, "smsgw_carrier_events_total", kind="reports") == 1
        final = sum(value(after, "smsgw_messages_final_total", carrier="cmcc", state=state)
                    for state in ("delivered", "undelivered"))
        assert final == 1
        assert value(after, "smsgw_deliver_sm_total", event="sent") == 1
        assert value(after, "smsgw_policy_events_total", kind="refreshed") >= 1
        assert value(after, "smsgw_smpp_connections", bound="yes") == 1
        assert value(after, "smsgw_store_batches_total") > value(before, "smsgw_store_batches_total")

        code, _ = await scrape(gw.listening.metrics, "/other")
        assert code == 404
    finally:
        client.close()
        await gw.stopService()


def test_each_gateway_has_its_own_registry() -> None:
    one, two = GatewayMetrics(Sources(), reactor), GatewayMetrics(Sources(), reactor)
    one.smpp_answered("submit_sm", 0, 0.002)
    assert b'smsgw_smpp_requests_total{command="submit_sm",status="0x00000000"} 1.0' in one.text()
    assert b'command="submit_sm"' not in two.text()
