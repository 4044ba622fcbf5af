"""Counters needed per hour: the M/M/c queue (Erlang C), pure Python.

Within one hour, residents arrive as a Poisson process of rate λ (the hour's forecast,
visits per hour), each is served for an exponential time of mean ``1/μ`` (the
municipality's mean handling time), by ``c`` counters, first come first served. With
the offered load ``a = λ/μ`` (Erlangs) and ``c > a``:

* the probability that a resident waits at all is Erlang C,
  ``C(c, a) = (a^c / c!) · c/(c − a) / (Σ_{k<c} a^k/k! + (a^c / c!) · c/(c − a))``,
  computed stably from the Erlang B recursion ``B(0) = 1``,
  ``B(k) = a·B(k−1) / (k + a·B(k−1))`` and ``C = c·B / (c − a·(1 − B))``;
* the wait is then exponential: ``P(W > t) = C(c, a) · exp(−(cμ − λ)·t)``, so its
  ``q``-quantile (p90: ``q = 0.9``) is ``0`` when ``C ≤ 1 − q`` and otherwise
  ``ln(C / (1 − q)) / (cμ − λ)``.

:func:`counters_needed` is the smallest ``c`` whose p90 wait is within the target;
with ``c ≤ a`` the queue grows without bound, so ``c`` starts above the load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_COUNTERS = 200


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c (Erlang B) with ``load`` Erlangs."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C); 1 when ``servers ≤ load``."""
    if servers <= 0 or load >= servers:
        return 1.0
    if load == 0:
        return 0.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def wait_quantile(
    *, servers: int, arrival_rate: float, service_rate: float, quantile: float = 0.9
) -> float:
    """The ``quantile`` of the waiting time (in the rates' time unit); ``inf`` when the
    queue is unstable."""
    if not 0 < quantile < 1:
        raise ValueError("quantile must be between 0 and 1")
    if arrival_rate < 0 or service_rate <= 0:
        raise ValueError("rates must be positive")
    if arrival_rate == 0:
        return 0.0
    load = arrival_rate / service_rate
    if servers <= load:
        return math.inf
    c = erlang_c(servers, load)
    tail = 1 - quantile
    if c <= tail:
        return 0.0
    return math.log(c / tail) / (servers * service_rate - arrival_rate)


def counters_needed(
    *, arrivals_per_hour: float, service_minutes: float, target_minutes: float,
    quantile: float = 0.9,
) -> int:  # fmt: skip
    """The fewest counters keeping the ``quantile`` wait within ``target_minutes``."""
    if service_minutes <= 0 or target_minutes < 0:
        raise ValueError("service time must be positive and the target not negative")
    if arrivals_per_hour <= 0:
        return 0
    rate = arrivals_per_hour / 60  # per minute
    service_rate = 1 / service_minutes
    servers = max(1, math.floor(rate / service_rate) + 1)
    while servers <= MAX_COUNTERS:
        wait = wait_quantile(
            servers=servers, arrival_rate=rate, service_rate=service_rate, quantile=quantile
        )
        if wait <= target_minutes:
            return servers
        servers += 1
    raise ValueError(f"more than {MAX_COUNTERS} counters would be needed")


@dataclass(frozen=True)
class HourStaffing:
    hour: int
    arrivals: float
    counters: int
    p90_wait_minutes: float


def hour_staffing(
    *, hour: int, arrivals_per_hour: float, service_minutes: float, target_minutes: float,
    quantile: float = 0.9,
) -> HourStaffing:  # fmt: skip
    counters = counters_needed(
        arrivals_per_hour=arrivals_per_hour, service_minutes=service_minutes,
        target_minutes=target_minutes, quantile=quantile,
    )  # fmt: skip
    wait = (
        wait_quantile(
            servers=counters, arrival_rate=arrivals_per_hour / 60,
            service_rate=1 / service_minutes, quantile=quantile,
        )
        if counters
        else 0.0
    )  # fmt: skip
    return HourStaffing(
        hour=hour, arrivals=arrivals_per_hour, counters=counters, p90_wait_minutes=wait
    )
