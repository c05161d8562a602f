"""Prometheus metrics of one gateway, served over twisted.web at ``/metrics``.

Each gateway has its own ``CollectorRegistry`` (never the process-global
default one), so tests and several gateways in a process do not mix.  Two
kinds of series:

* read at scrape time from the live objects (``Sources``): link states,
  window occupancy (``smsgw_link_in_flight`` of ``smsgw_link_window``), queue
  depths (link queues, the store writer's pending operations, dispatcher in
  flight), the dispatcher's, notifier's, carrier events' and policy service's
  counters, the writer's batches, SMPP connections;
* counted as things happen: messages accepted by account, carrier and state
  and messages ended by carrier and state (``MeteredStore``, a thin wrapper
  of the pipeline's ``StoreClient``), segments submitted by carrier and link,
  SMPP requests by command and status with the latency between request and
  response (``smpp_answered``, called by the SMPP listener), and the time an
  acceptance takes to become durable.

Account labels are account ids (bounded by the number of accounts).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping

import attrs
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from smsgw.domain.model import MessageState

#: SMPP request to response, seconds: a durable accept is a group commit, milliseconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _none() -> None:
    return None


@attrs.frozen
class Sources:
    """Where the live values are read at scrape time; each callable may answer None (not started)."""

    dispatcher: Callable[[], Any] = _none  # counters: dict, in_flight: int
    notifier: Callable[[], Any] = _none  # sent, acked
    carrier_events: Callable[[], Any] = _none  # counters: dict
    policies: Callable[[], Any] = _none  # counters: dict
    writer: Callable[[], Any] = _none  # pending, stats
    links: Callable[[], Mapping[str, Any]] = dict  # name -> LinkGroup (state, config)
    smpp_connections: Callable[[], Iterable[Any]] = tuple  # connections with ``account`` (None until bound)


class LiveCollector(Collector):
    """The scrape-time series of the module docstring."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        yield from self._dispatcher()
        yield from self._links()
        yield from self._store()
        yield from self._smpp()

    def _dispatcher(self) -> Iterator[Metric]:
        dispatcher = self.sources.dispatcher()
        if dispatcher is not None:
            segments = CounterMetricFamily("smsgw_dispatcher_segments", "Segments the dispatcher handed to links, "
                                           "and their outcomes", labels=["outcome"])
            for outcome, value in sorted(dispatcher.counters.items()):
                segments.add_metric([outcome], value)
            yield segments
            yield GaugeMetricFamily("smsgw_dispatcher_in_flight", "Segments handed to links and not yet answered",
                                    value=dispatcher.in_flight)
        notifier = self.sources.notifier()
        if notifier is not None:
            deliveries = CounterMetricFamily("smsgw_deliver_sm", "Receipts and MO sent to clients as deliver_sm, "
                                             "and acknowledged", labels=["event"])
            deliveries.add_metric(["sent"], notifier.sent)
            deliveries.add_metric(["acked"], notifier.acked)
            yield deliveries
        events = self.sources.carrier_events()
        if events is not None:
            family = CounterMetricFamily("smsgw_carrier_events", "Reports and MO from the carriers", labels=["kind"])
            for kind, value in sorted(events.counters.items()):
                family.add_metric([kind], value)
            yield family
        policies = self.sources.policies()
        if policies is not None:
            family = CounterMetricFamily("smsgw_policy_events", "What the policy service did: index reloads, "
                                         "changes applied, unsubscribes, low-balance alerts, held messages "
                                         "released", labels=["kind"])
            for kind, value in sorted(policies.counters.items()):
                family.add_metric([kind], value)
            yield family

    def _links(self) -> Iterator[Metric]:
        labels = ["link", "protocol", "carrier"]
        gauges = {
            "up": GaugeMetricFamily("smsgw_link_up", "1 when the link group is logged in", labels=labels),
            "connections": GaugeMetricFamily("smsgw_link_connections", "Connections logged in", labels=labels),
            "in_flight": GaugeMetricFamily("smsgw_link_in_flight", "Submits sent and not answered (window occupancy)",
                                           labels=labels),
            "window": GaugeMetricFamily("smsgw_link_window", "Window over the configured connections", labels=labels),
            "queued": GaugeMetricFamily("smsgw_link_queued", "Segments waiting for room in the window", labels=labels),
            "tps": GaugeMetricFamily("smsgw_link_tps", "Submit rate allowed now (lowered while throttled)",
                                     labels=labels),
            "throttled": GaugeMetricFamily("smsgw_link_throttled", "1 while the carrier asks us to slow down",
                                           labels=labels),
            "suspended": GaugeMetricFamily("smsgw_link_suspended", "1 when an administrator suspended the link",
                                           labels=labels),
        }
        for name, group in sorted(self.sources.links().items()):
            state = group.state
            config = group.config
            values = [name, state.protocol, getattr(config, "carrier", "")]
            gauges["up"].add_metric(values, 1 if state.up else 0)
            gauges["connections"].add_metric(values, state.connections)
            gauges["in_flight"].add_metric(values, state.in_flight)
            gauges["window"].add_metric(values, config.window * config.connections)
            gauges["queued"].add_metric(values, state.queued)
            gauges["tps"].add_metric(values, state.tps)
            gauges["throttled"].add_metric(values, 1 if state.throttled else 0)
            gauges["suspended"].add_metric(values, 1 if state.suspended else 0)
        yield from gauges.values()

    def _store(self) -> Iterator[Metric]:
        writer = self.sources.writer()
        if writer is None:
            return
        stats = writer.stats
        yield GaugeMetricFamily("smsgw_store_pending_operations", "Operations waiting for the writer thread",
                                value=writer.pending)
        yield CounterMetricFamily("smsgw_store_batches", "Transactions the writer committed", value=stats.batches)
        yield CounterMetricFamily("smsgw_store_operations", "Operations the writer ran", value=stats.operations)
        yield CounterMetricFamily("smsgw_store_failed_operations", "Operations that failed", value=stats.failed)
        yield CounterMetricFamily("smsgw_store_retries", "Batches retried after the database refused",
                                  value=stats.retries)
        yield CounterMetricFamily("smsgw_store_commit_seconds", "Time spent committing", value=stats.commit_seconds)

    def _smpp(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("smsgw_smpp_connections", "SMPP client connections", labels=["bound"])
        conns = list(self.sources.smpp_connections())
        bound = sum(1 for conn in conns if getattr(conn, "account", None) is not None)
        family.add_metric(["yes"], bound)
        family.add_metric(["no"], len(conns) - bound)
        yield family


class GatewayMetrics:
    """The registry of one gateway and the counters the pipeline moves."""

    def __init__(self, sources: Sources, clock: Any) -> None:
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter("smsgw_messages_accepted", "Messages stored at acceptance, by the state stored in",
                                ["account", "carrier", "state"], registry=r)
        self.ended = Counter("smsgw_messages_final", "Messages that reached a final state after acceptance",
                             ["carrier", "state"], registry=r)
        self.submitted = Counter("smsgw_segments_submitted", "Segments a carrier took (its id recorded)",
                                 ["carrier", "link"], registry=r)
        self.smpp_requests = Counter("smsgw_smpp_requests", "SMPP requests answered, by command and status",
                                     ["command", "status"], registry=r)
        self.smpp_latency = Histogram("smsgw_smpp_request_seconds", "SMPP request to response (submit_sm: until "
                                      "the message is durable)", ["command"], buckets=LATENCY_BUCKETS, registry=r)
        self.accept_latency = Histogram("smsgw_store_accept_seconds", "An acceptance from the writer's queue to "
                                        "its commit", buckets=LATENCY_BUCKETS, registry=r)
        r.register(LiveCollector(sources))

    def smpp_answered(self, command: str, status: int, seconds: float) -> None:
        """The SMPP listener answered ``command`` with ``status`` after ``seconds``."""
        self.smpp_requests.labels(command, f"0x{status:08x}").inc()
        self.smpp_latency.labels(command).observe(seconds)

    def metered(self, store: Any) -> MeteredStore:
        return MeteredStore(store, self)

    def text(self) -> bytes:
        """The exposition text (what ``/metrics`` answers)."""
        return generate_latest(self.registry)

    def site(self) -> Site:
        """A twisted.web site answering ``/metrics``."""
        root = _Root()
        root.putChild(b"metrics", MetricsResource(self))
        return Site(root)


class MeteredStore:
    """The pipeline's ``StoreClient`` with messages counted on their way (everything else passes through)."""

    def __init__(self, store: Any, metrics: GatewayMetrics) -> None:
        self._store = store
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def accept(self, message: Any, segments: Any, submission_id: int | None = None) -> Any:
        clock = self._metrics.clock
        started = clock.seconds()

        def stored(result: Any) -> Any:
            self._metrics.accept_latency.observe(clock.seconds() - started)
            self._metrics.accepted.labels(str(message.account_id), message.carrier or "",
                                          message.state.value).inc()
            return result

        return self._store.accept(message, segments, submission_id).addCallback(stored)

    def report(self, report: Any) -> Any:
        def recorded(outcome: Any) -> Any:
            if outcome.message_state is not None:
                self._metrics.ended.labels(report.carrier, outcome.message_state.value).inc()
            return outcome

        return self._store.report(report).addCallback(recorded)

    def submitted(self, message_id: int, seq: int, carrier: str, carrier_msg_id: str, at: int,
                  link: str | None = None) -> Any:
        def recorded(result: Any) -> Any:
            self._metrics.submitted.labels(carrier, link or "").inc()
            return result

        return self._store.submitted(message_id, seq, carrier, carrier_msg_id, at, link).addCallback(recorded)

    def submit_failed(self, *args: Any, **kwargs: Any) -> Any:
        return self._store.submit_failed(*args, **kwargs).addCallback(self._ended_if_final)

    def review(self, *args: Any, **kwargs: Any) -> Any:
        return self._store.review(*args, **kwargs).addCallback(self._ended_if_final)

    def expire(self, *args: Any, **kwargs: Any) -> Any:
        def counted(count: int) -> int:
            if count:
                self._metrics.ended.labels("", MessageState.EXPIRED.value).inc(count)
            return count

        return self._store.expire(*args, **kwargs).addCallback(counted)

    def _ended_if_final(self, state: Any) -> Any:
        if isinstance(state, MessageState) and state.final:
            self._metrics.ended.labels("", state.value).inc()
        return state


class _Root(Resource):
    def getChild(self, path: bytes, request: Request) -> Resource:  # noqa: N802 (twisted.web's name)
        return notFound()  # type: ignore[return-value]


class MetricsResource(Resource):
    isLeaf = True

    def __init__(self, metrics: GatewayMetrics) -> None:
        super().__init__()
        self.metrics = metrics

    def render_GET(self, request: Request) -> bytes:  # noqa: N802 (twisted.web's name)
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
        return self.metrics.text()
