"""Writes of the standard datasets: publishing them to the catalogue, and the masters."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from machi.opendata.standard import masters, population
from machi.opendata.standard.schema import schema_validate
from machi.tenancy.context import current_lg_code
from machi.tenancy.models import Municipality

DATASETS = ("population", "shelters", "facilities", "aed")


class StandardError(ValidationError):
    """A dataset cannot be built or published; the message says why."""


@dataclass(frozen=True)
class Built:
    dataset: str
    slug: str
    title: str
    notes: str
    tags: list[str]
    frequency: str
    filename: str
    content: bytes
    rows: int


def _municipality() -> Municipality:
    return Municipality.objects.using("default").get(lg_code=current_lg_code())


def standard_build(
    *, dataset: str, day: datetime.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Built:  # fmt: skip
    """The export of ``dataset`` for the municipality in force, validated against its
    shipped schema (a file that fails it is never published)."""
    if dataset not in DATASETS:
        raise StandardError(f"データセットは {', '.join(DATASETS)} のいずれかです。")
    municipality = _municipality()
    lg_code = municipality.lg_code
    if dataset == "population":
        day = day or timezone.localdate()
        table = population.population_table(
            lg_code=lg_code, prefecture=municipality.prefecture, city=municipality.name,
            day=day, progress=progress,
        )  # fmt: skip
        built = Built(
            dataset=dataset, slug="population-by-area-and-age", title="地域・年齢別人口",
            notes=population.population_notes(table=table),
            tags=["人口", "統計", "自治体標準オープンデータセット"], frequency="MONTHLY",
            filename=f"{lg_code}_population_{day:%Y%m%d}.csv", content=table.content,
            rows=len(table.rows),
        )  # fmt: skip
    else:
        if day is not None:
            raise StandardError(
                "--date は population だけに使えます（施設の台帳は現在の内容です）。"
            )
        master = masters.MASTERS[dataset]
        content = masters.master_export(
            dataset=dataset, lg_code=lg_code, municipality_name=municipality.name
        )
        notes = (
            f"{municipality.name}が管理する{master.title}です"
            "（自治体標準オープンデータセットの列の並び、UTF-8 BOM 付き）。"
        )
        built = Built(
            dataset=dataset, slug=master.slug, title=master.title, notes=notes,
            tags=list(master.tags), frequency="IRREG",
            filename=f"{lg_code}_{master.slug.replace('-', '_')}.csv", content=content,
            rows=master.model.objects.count(),
        )  # fmt: skip
    problems = schema_validate(dataset=dataset, content=built.content)
    if problems:
        raise StandardError("; ".join(str(p) for p in problems[:5]))
    return built


def standard_publish(
    *, dataset: str, day: datetime.date | None = None,
    progress: Callable[[str], None] | None = None,
):  # fmt: skip
    """Build ``dataset`` and publish it as a new version of its CSV resource."""
    from machi.opendata.services import dataset_publish
    from machi.opendata.types import ResourceIn

    built = standard_build(dataset=dataset, day=day, progress=progress)
    published = dataset_publish(
        slug=built.slug, title=built.title, notes=built.notes, tags=built.tags,
        frequency=built.frequency,
        resources=[ResourceIn(name=built.filename, format="CSV", content=built.content,
                              media_type="text/csv")],
    )  # fmt: skip
    if progress:
        progress("published")
    return built, published
