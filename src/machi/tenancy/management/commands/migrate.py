"""`machi migrate`: the control database, then every municipality's database.

With --database it behaves exactly like Django's migrate on that one database.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    help = "Migrate the control database and every municipality's database."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database=None)

    def get_check_kwargs(self, options: dict[str, Any]) -> dict[str, Any]:
        return {
            **super().get_check_kwargs({**options, "database": options["database"] or "default"})
        }

    def handle(self, *args: Any, **options: Any) -> None:
        if options["database"] is not None:
            super().handle(*args, **options)
            return
        options["database"] = "default"
        super().handle(*args, **options)
        from machi.tenancy.databases import ensure_tenant_connection
        from machi.tenancy.models import Municipality
        from machi.tenancy.services import municipality_migrate

        for municipality in Municipality.objects.order_by("lg_code"):
            if options["verbosity"]:
                self.stdout.write(self.style.MIGRATE_HEADING(f"Municipality {municipality}:"))
            ensure_tenant_connection(municipality.lg_code)
            municipality_migrate(lg_code=municipality.lg_code, verbosity=options["verbosity"])
