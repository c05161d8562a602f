"""Route choice: which link group a segment goes out on (DESIGN.md §3 step 5).

This module owns the decision only.  The dispatcher gives it the segment's
carrier (from ``NumberingPlan.carrier_of`` with the portability overrides),
its account, and which link groups are up right now; it answers ``Route`` or
``Wait``.  No I/O, no clock, no Twisted: the static configuration is one
immutable ``RoutingTable``, the changing link state is a plain collection of
the names of the groups that can send, passed in on every call.

The rules, in order (each looks at the carrier first, then at the carrier
that carries it, ``carried_by``, e.g. cbn → cmcc):

1. **Account route.**  An account (the sub-account first, then its
   enterprise) may be bound to one link group per carrier.  It is strict: if
   that group is down the segment waits rather than leaving on another
   channel, because an account is bound to a channel for a reason (its
   signature is registered there, its traffic is billed there) and a carrier
   refuses or bills differently what arrives on a channel it was not
   registered for.  Remove the account route to release its traffic.
2. **Carrier groups.**  The groups configured for the carrier, in order of
   preference: the first that is up.  Balancing between the links inside a
   group is the group's own business.
3. **Failover.**  When every group of the carrier is down (or it has none),
   the failover groups configured for it, in order, e.g. cucc → a cmcc group
   whose contract also delivers to Unicom numbers (三网合一 channels).
4. Otherwise **Wait** with a reason.  A segment is never dropped for want of a
   link: it stays queued until a link comes up or it expires.

Like Jasmin's Route/RoutingTable split, the pieces are small and tested alone;
dispatch is explicit code over tables, no lookup by attribute name.
"""

from __future__ import annotations

import enum
import types
from typing import Any, Collection, Mapping, Sequence

import attrs

from smsgw.routing.numbering import Carrier


class RouteKind(str, enum.Enum):
    """Which rule chose the route; for logs and metrics."""

    ACCOUNT = "account"
    CARRIER = "carrier"
    FAILOVER = "failover"


@attrs.frozen
class Route:
    """Send on ``link_group``, which reaches ``carrier``'s gateway."""

    link_group: str
    carrier: Carrier
    kind: RouteKind = RouteKind.CARRIER


@attrs.frozen
class Wait:
    """No link group can take the segment now; it stays queued.  ``reason`` is for people."""

    carrier: Carrier
    reason: str


Decision = Route | Wait


class RoutingConfigError(ValueError):
    """The routing configuration names something that does not exist: the operator's fault.

    ``key`` is the setting at fault, e.g. ``failover.cucc`` or ``accounts.12.ctcc``.
    """

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def _carrier(name: Any, key: str) -> Carrier:
    try:
        return Carrier(name)
    except ValueError:
        expected = ", ".join(c.value for c in Carrier)
        raise RoutingConfigError(key, f"{name!r} is not a carrier; expected one of {expected}") from None


def _group_lists(value: Mapping[Any, Sequence[str]], field: str) -> Mapping[Carrier, tuple[str, ...]]:
    out: dict[Carrier, tuple[str, ...]] = {}
    for name, groups in value.items():
        if isinstance(groups, str):  # a bare "a" would become ("a",) by accident
            raise RoutingConfigError(f"{field}.{name}", "must be a list of link group names")
        out[_carrier(name, f"{field}.{name}")] = tuple(groups)
    return types.MappingProxyType(out)


def _groups(value: Mapping[Any, Sequence[str]]) -> Mapping[Carrier, tuple[str, ...]]:
    return _group_lists(value, "groups")


def _failover(value: Mapping[Any, Sequence[str]]) -> Mapping[Carrier, tuple[str, ...]]:
    return _group_lists(value, "failover")


def _accounts(value: Mapping[int, Mapping[Any, str]]) -> Mapping[int, Mapping[Carrier, str]]:
    return types.MappingProxyType(
        {
            account: types.MappingProxyType(
                {_carrier(c, f"accounts.{account}.{c}"): group for c, group in routes.items()}
            )
            for account, routes in value.items()
        }
    )


def _carriers(value: Mapping[Any, Any]) -> Mapping[Carrier, Carrier]:
    return types.MappingProxyType(
        {_carrier(c, f"carried_by.{c}"): _carrier(t, f"carried_by.{c}") for c, t in value.items()}
    )


@attrs.frozen
class RoutingTable:
    """The static routing configuration, validated on construction.

    ``groups``      carrier → its link groups' names, most preferred first;
    ``failover``    carrier → groups (of any carrier) to use when all of its own are down;
    ``accounts``    account id → carrier → the one group that account's traffic must use;
    ``carried_by``  carrier → carrier whose settings apply when it has none of its own
                    (``NumberingPlan.carried_by``: cbn → cmcc).

    A group name belongs to exactly one carrier.  ``RoutingConfigError`` names
    the first setting that refers to an unknown group or repeats one.
    """

    groups: Mapping[Carrier, tuple[str, ...]] = attrs.field(converter=_groups)
    failover: Mapping[Carrier, tuple[str, ...]] = attrs.field(factory=dict, converter=_failover)
    accounts: Mapping[int, Mapping[Carrier, str]] = attrs.field(factory=dict, converter=_accounts)
    carried_by: Mapping[Carrier, Carrier] = attrs.field(factory=dict, converter=_carriers)
    # group name → the carrier it reaches; derived from ``groups``
    _owner: Mapping[str, Carrier] = attrs.field(init=False, repr=False, eq=False)

    @_owner.default
    def _index(self) -> Mapping[str, Carrier]:
        owner: dict[str, Carrier] = {}
        for carrier, names in self.groups.items():
            for name in names:
                if name in owner:
                    raise RoutingConfigError(
                        f"groups.{carrier.value}", f"link group {name!r} is already listed under {owner[name].value}"
                    )
                owner[name] = carrier
        return types.MappingProxyType(owner)

    def __attrs_post_init__(self) -> None:
        for carrier, names in self.failover.items():
            for name in names:
                self._known(name, f"failover.{carrier.value}")
                if self._owner[name] is carrier:
                    raise RoutingConfigError(
                        f"failover.{carrier.value}", f"{name!r} is one of {carrier.value}'s own groups, not a failover"
                    )
        for account, routes in self.accounts.items():
            for carrier, name in routes.items():
                self._known(name, f"accounts.{account}.{carrier.value}")
        for carrier, target in self.carried_by.items():
            if target is carrier or target in self.carried_by:
                raise RoutingConfigError(f"carried_by.{carrier.value}", "must name a carrier that is not carried itself")

    def _known(self, name: str, key: str) -> None:
        if name not in self._owner:
            known = ", ".join(sorted(self._owner)) or "none"
            raise RoutingConfigError(key, f"unknown link group {name!r} (configured: {known})")

    def carrier_of_group(self, name: str) -> Carrier:
        return self._owner[name]

    def chain(self, carrier: Carrier) -> tuple[Carrier, ...]:
        """The carriers whose settings apply to ``carrier``, in order: itself, then its host."""
        host = self.carried_by.get(carrier)
        return (carrier,) if host is None else (carrier, host)


def choose_route(
    table: RoutingTable,
    carrier: Carrier,
    up: Collection[str],
    *,
    account_id: int | None = None,
    enterprise_id: int | None = None,
) -> Decision:
    """The link group for one segment to ``carrier``, or why it must wait.

    ``up`` holds the names of the link groups that can send now (at least one
    link bound and not blocked); a name not in it counts as down.
    """
    chain = table.chain(carrier)

    bound = _account_route(table, chain, (account_id, enterprise_id))
    if bound is not None:
        account, name = bound
        if name in up:
            return Route(name, table.carrier_of_group(name), RouteKind.ACCOUNT)
        return Wait(carrier, f"account {account} sends {carrier.value} only on link group {name!r}, which is down")

    own = _first_configured(table.groups, chain)
    if own is not None:
        for name in own:
            if name in up:
                return Route(name, table.carrier_of_group(name), RouteKind.CARRIER)
        problem = f"all link groups for {carrier.value} are down ({', '.join(own)})"
    else:
        problem = f"no link group is configured for {carrier.value}"

    spare = _first_configured(table.failover, chain)
    if spare is None:
        return Wait(carrier, f"{problem} and no failover is configured")
    for name in spare:
        if name in up:
            return Route(name, table.carrier_of_group(name), RouteKind.FAILOVER)
    return Wait(carrier, f"{problem} and its failover groups are down too ({', '.join(spare)})")


def _account_route(
    table: RoutingTable, chain: tuple[Carrier, ...], accounts: tuple[int | None, ...]
) -> tuple[int, str] | None:
    """(account, group) of the most specific account route: sub-account before enterprise."""
    for account in accounts:
        if account is None:
            continue
        routes = table.accounts.get(account)
        if not routes:
            continue
        for carrier in chain:
            name = routes.get(carrier)
            if name is not None:
                return account, name
    return None


def _first_configured(
    settings: Mapping[Carrier, tuple[str, ...]], chain: tuple[Carrier, ...]
) -> tuple[str, ...] | None:
    for carrier in chain:
        names = settings.get(carrier)
        if names:
            return names
    return None

