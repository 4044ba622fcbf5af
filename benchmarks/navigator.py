"""Latency of the procedure navigator: a 6-person household against the whole catalogue.

Run by hand::

    .venv/bin/python benchmarks/navigator.py [--evaluations 2000] [--seed 7]

Generates varied 6-person households (a seeded mix of ages from newborn to 90, every
insurance, pension category and flag) and events (all eight types; move in/out from/to
abroad), then times ``machi.procedures.engine.navigate`` — input validation, one CEL
context per request, every rule of the event, deadlines and reasons — against the
default catalogue. Pure Python: no Django, no database. Prints JSON with p50/p95/p99 in
milliseconds, overall and per event type (target: p95 ≤ 5 ms, DESIGN.md).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from machi.procedures.engine import default_catalogue, navigate
from machi.procedures.engine.catalogue import EVENT_LABELS

FLAGS = (
    "receives_pension", "civil_servant", "my_number_card", "seal_registered",
    "care_certified", "disability_certificate", "child_allowance_recipient", "name_changes",
)  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return round(ordered[index], 3)


def household(rng: random.Random, day: datetime.date, event: str) -> dict:
    ages = [rng.randint(30, 90), rng.randint(25, 70), *(rng.randint(0, 19) for _ in range(4))]
    persons = []
    for i, years in enumerate(ages):
        born = day - datetime.timedelta(days=int(years * 365.25) + rng.randint(0, 364))
        if event == "birth" and i == 5:
            born = day
        person = {
            "id": f"p{i + 1}",
            "birth_date": born.isoformat(),
            "householder": i == 0,
            "nationality": "JP",
            "insurance": rng.choice(("kokuho", "employee", "kouki", "welfare", "none")),
            "pension": rng.choice((None, "1", "2", "3")),
            "custodial_parent": i == 1 and event == "divorce",
        }
        person.update({flag: rng.random() < 0.3 for flag in FLAGS})
        persons.append(person)
    ids = [p["id"] for p in persons]
    if event == "birth":
        subjects = ["p6"]
    elif event == "death":
        subjects = [rng.choice(ids)]
    elif event in ("marriage", "divorce"):
        subjects = ["p1", "p2"]
    else:
        subjects = rng.sample(ids, rng.randint(1, 6))
    return {
        "event": {
            "type": event,
            "date": day.isoformat(),
            "subjects": subjects,
            "from_abroad": event == "move_in" and rng.random() < 0.3,
            "to_abroad": event == "move_out" and rng.random() < 0.3,
        },
        "persons": persons,
        "answers": {
            "has_dog": rng.random() < 0.3,
            "wants_seal_registration": rng.random() < 0.5,
            "owns_real_estate": rng.random() < 0.3,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    catalogue = default_catalogue()
    load_ms = (time.perf_counter() - started) * 1000

    events = list(EVENT_LABELS)
    inputs = []
    for i in range(args.evaluations):
        event = events[i % len(events)]
        day = datetime.date(2025, 1, 1) + datetime.timedelta(days=rng.randint(0, 730))
        inputs.append((event, household(rng, day, event)))
    for _, data in inputs[:50]:  # warm up (helper caches start cold again below)
        navigate(data, catalogue)

    timings: dict[str, list[float]] = {event: [] for event in events}
    procedures = 0
    gc.collect()
    for event, data in inputs:
        start = time.perf_counter()
        result = navigate(data, catalogue)
        timings[event].append((time.perf_counter() - start) * 1000)
        procedures += len(result["procedures"])
    everything = [t for values in timings.values() for t in values]
    print(
        json.dumps(
            {
                "benchmark": "navigator",
                "evaluations": args.evaluations,
                "household_size": 6,
                "catalogue_entries": len(catalogue.entries),
                "catalogue_load_ms": round(load_ms, 1),
                "procedures_per_evaluation": round(procedures / args.evaluations, 1),
                "ms": {
                    "p50": percentile(everything, 0.50),
                    "p95": percentile(everything, 0.95),
                    "p99": percentile(everything, 0.99),
                    "max": round(max(everything), 3),
                },
                "per_event_ms": {
                    event: {"p50": percentile(v, 0.50), "p95": percentile(v, 0.95)}
                    for event, v in timings.items()
                },
                "target_p95_ms": 5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
