from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "machi.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
    # Models listed here live in each municipality's own database; every other
    # model of a machi app lives in the control database.
    tenant_models: frozenset[str] = frozenset()
