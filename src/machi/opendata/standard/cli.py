"""`machi opendata publish-standard` (the command itself lives in machi.opendata)."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from machi.opendata.services import OpendataError
from machi.opendata.standard.services import DATASETS, StandardError, standard_publish
from machi.tenancy.context import tenant_context
from machi.tenancy.databases import UnknownTenantError

STEPS = {"population": ("counted", "suppressed", "published"), "default": ("published",)}
LABELS = {"counted": "集計", "suppressed": "秘匿", "published": "公開"}


class _Progress:
    """A dependency-free progress bar over the steps of one build."""

    def __init__(self, stdout: Any, steps: tuple[str, ...], width: int = 30) -> None:
        self.stdout, self.steps, self.width = stdout, steps, width
        self.started = time.monotonic()
        self.draw(0, "")

    def draw(self, done: int, label: str) -> None:
        filled = int(done / len(self.steps) * self.width)
        elapsed = time.monotonic() - self.started
        self.stdout.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{len(self.steps)} "
            f"{label} {elapsed:.1f}秒",
            ending="",
        )
        self.stdout.flush()

    def __call__(self, step: str) -> None:
        if step in self.steps:
            self.draw(self.steps.index(step) + 1, LABELS.get(step, step))
        if step == self.steps[-1]:
            self.stdout.write("", ending="\n")


def publish_standard_command(
    *, lg_code: str, dataset: str, date: datetime.date | None, stdout: Any
) -> None:
    """Build the standard dataset ``dataset`` for municipality ``lg_code`` from machi's
    data and publish it to the catalogue as a new version of its CSV resource."""
    if dataset not in DATASETS:
        raise CommandError(f"--dataset は {', '.join(DATASETS)} のいずれかです。")
    if not isinstance(stdout, OutputWrapper):
        stdout = OutputWrapper(stdout)
    progress = _Progress(stdout, STEPS.get(dataset, STEPS["default"]))
    try:
        with tenant_context(lg_code):
            built, published = standard_publish(dataset=dataset, day=date, progress=progress)
    except UnknownTenantError as error:
        raise CommandError(str(error)) from error
    except (StandardError, OpendataError) as error:
        raise CommandError(" ".join(error.messages)) from error
    stdout.write(
        f"{built.title}: {built.rows} 行を公開しました（{published.name}、{built.filename}）。"
    )
