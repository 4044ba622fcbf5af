"""`machi requests … --tenant <code>`: set up a municipality's request routing.

areas-import FILE [--kind polygon|chome] [--name-property name] [--category CODE]
        every Polygon/MultiPolygon Feature of a GeoJSON FeatureCollection becomes an area
rule --department CODE [--category CODE] [--area NAME]
        category × area → department (either side may be left out: any)
category-department CODE --department CODE
        the category's own department (used where no rule applies)
list    the categories, areas and rules in force
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from machi.requests.models import Area, Category, RoutingRule
from machi.requests.services import area_create, category_department_set, routing_rule_set
from machi.tenancy.commands import TenantCommand
from machi.tenancy.context import current_tenant_alias


class Command(TenantCommand):
    help = "Areas, routing rules and category departments of one municipality's requests."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        areas = sub.add_parser("areas-import", help="areas from a GeoJSON FeatureCollection")
        super().add_arguments(areas)
        areas.add_argument("file", type=Path)
        areas.add_argument("--kind", choices=["polygon", "chome"], default="polygon")
        areas.add_argument("--name-property", default="name")
        areas.add_argument("--category", help="limit the areas to one category code")
        rule = sub.add_parser("rule", help="category × area → department")
        super().add_arguments(rule)
        rule.add_argument("--department", required=True)
        rule.add_argument("--category")
        rule.add_argument("--area", help="the area's name")
        dept = sub.add_parser("category-department", help="a category's own department")
        super().add_arguments(dept)
        dept.add_argument("category")
        dept.add_argument("--department", required=True)
        listing = sub.add_parser("list", help="categories, areas and rules")
        super().add_arguments(listing)
        block = sub.add_parser("block-address", help="stop a mail address from filing")
        super().add_arguments(block)
        block.add_argument("email")
        block.add_argument("--reason", default="")
        block.add_argument("--remove", action="store_true", help="allow the address again")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

    def _category(self, code: str | None) -> Category | None:
        if not code:
            return None
        category = Category.objects.filter(code=code).first()
        if category is None:
            raise CommandError(f"分類 {code} はありません。")
        return category

    def _areas_import(self, options: dict[str, Any]) -> None:
        try:
            data = json.loads(options["file"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"GeoJSON を読めません: {error}") from error
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise CommandError("GeoJSON の FeatureCollection を指定してください。")
        category = self._category(options["category"])
        with transaction.atomic(using=current_tenant_alias()):
            for number, feature in enumerate(data.get("features") or [], start=1):
                name = str((feature.get("properties") or {}).get(options["name_property"]) or "")
                try:
                    area_create(
                        name=name, kind=options["kind"], category=category,
                        geometry=json.dumps(feature.get("geometry"), ensure_ascii=False),
                    )  # fmt: skip
                except ValidationError as error:
                    raise CommandError(
                        f"{number} 番目の地物: {' '.join(error.messages)}（何も登録していません）"
                    ) from error
        self.stderr.write(f"{number if data.get('features') else 0} 件の区域を登録しました。")

    def _rule(self, options: dict[str, Any]) -> None:
        area = None
        if options["area"]:
            area = Area.objects.filter(name=options["area"]).order_by("id").first()
            if area is None:
                raise CommandError(f"区域「{options['area']}」はありません。")
        routing_rule_set(
            department=options["department"], category=self._category(options["category"]),
            area=area,
        )  # fmt: skip
        self.stderr.write("振り分け規則を登録しました。")

    def _category_department(self, options: dict[str, Any]) -> None:
        category_department_set(
            category=self._category(options["category"]), department=options["department"]
        )
        self.stderr.write("分類の担当課を変更しました。")

    def _block_address(self, options: dict[str, Any]) -> None:
        from django.core.validators import validate_email

        from machi.requests import abuse

        if options["remove"]:
            if not abuse.blocked_address_remove(email=options["email"]):
                raise CommandError("このメールアドレスは止められていません。")
            self.stderr.write("メールアドレスの受付を再開しました。")
            return
        validate_email(options["email"].strip())
        abuse.blocked_address_add(email=options["email"], reason=options["reason"])
        self.stderr.write("メールアドレスからの受付を止めました。")

    def _list(self, options: dict[str, Any]) -> None:
        for c in Category.objects.all():
            self.stdout.write(f"category\t{c.code}\t{c.name}\t{c.department or '-'}")
        for a in Area.objects.all():
            self.stdout.write(f"area\t{a.pk}\t{a.name}\t{a.kind}")
        for r in RoutingRule.objects.select_related("category", "area"):
            category = r.category.code if r.category else "*"
            area = r.area.name if r.area else "*"
            self.stdout.write(f"rule\t{category}\t{area}\t{r.department}")
