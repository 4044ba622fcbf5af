"""Erlang C staffing: known values, boundaries, and that more counters never increase
the wait."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.analytics.forecast.staffing import (
    MAX_COUNTERS,
    counters_needed,
    erlang_c,
    hour_staffing,
    wait_quantile,
)


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: P(wait) = ρ
        (2, 1.0, 1 / 3),
        (3, 2.0, 4 / 9),
        (2, 2.0, 1.0),  # c = a: unstable
        (1, 0.0, 0.0),
        (0, 0.5, 1.0),
    ],
)
def test_erlang_c(servers, load, expected):
    assert erlang_c(servers, load) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("arrivals", "service", "target", "expected"),
    [
        (0, 10, 15, 0),  # nobody comes: no counter
        (1, 10, 15, 1),
        (6, 10, 0, 3),  # a = 1: P(wait) ≤ 10 % needs 3 counters (C(3,1) = 0.045)
        (6, 10, 60, 2),  # c must exceed the load (a = 1) whatever the target
        (30, 10, 15, 7),  # a = 5: 6 counters give a p90 wait of 17.7 min, 7 give 5.9
        (30, 10, 5, 8),
        (60, 10, 15, 12),
    ],
)
def test_counters_needed_table(arrivals, service, target, expected):
    assert (
        counters_needed(arrivals_per_hour=arrivals, service_minutes=service, target_minutes=target)
        == expected
    )


def test_counters_needed_meets_the_target_and_one_less_does_not():
    for arrivals in (5, 17, 42, 90):
        c = counters_needed(arrivals_per_hour=arrivals, service_minutes=12, target_minutes=15)
        rate, mu = arrivals / 60, 1 / 12
        assert wait_quantile(servers=c, arrival_rate=rate, service_rate=mu) <= 15
        assert wait_quantile(servers=c - 1, arrival_rate=rate, service_rate=mu) > 15


def test_unstable_queue_and_bad_input():
    assert wait_quantile(servers=1, arrival_rate=2, service_rate=1) == math.inf
    with pytest.raises(ValueError):
        counters_needed(arrivals_per_hour=10, service_minutes=0, target_minutes=5)
    with pytest.raises(ValueError):
        counters_needed(arrivals_per_hour=MAX_COUNTERS * 60, service_minutes=1.5, target_minutes=1)
    with pytest.raises(ValueError):
        wait_quantile(servers=1, arrival_rate=1, service_rate=2, quantile=1)


def test_hour_staffing_reports_its_wait():
    s = hour_staffing(hour=9, arrivals_per_hour=30, service_minutes=10, target_minutes=15)
    assert s.counters == 7
    assert s.p90_wait_minutes == pytest.approx(5.88, abs=0.01)


@given(
    arrivals=st.floats(min_value=0.1, max_value=300),
    service=st.floats(min_value=0.5, max_value=40),
    servers=st.integers(min_value=1, max_value=80),
)
def test_more_counters_never_increase_the_wait(arrivals, service, servers):
    rate, mu = arrivals / 60, 1 / service
    now = wait_quantile(servers=servers, arrival_rate=rate, service_rate=mu)
    more = wait_quantile(servers=servers + 1, arrival_rate=rate, service_rate=mu)
    assert more <= now or (math.isinf(now) and math.isinf(more)) or now == pytest.approx(more)


@given(
    arrivals=st.floats(min_value=0, max_value=200),
    target=st.floats(min_value=0, max_value=60),
)
def test_a_longer_target_never_needs_more_counters(arrivals, target):
    c = counters_needed(arrivals_per_hour=arrivals, service_minutes=8, target_minutes=target)
    longer = counters_needed(
        arrivals_per_hour=arrivals, service_minutes=8, target_minutes=target + 5
    )
    assert longer <= c
