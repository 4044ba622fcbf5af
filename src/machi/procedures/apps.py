from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "machi.procedures"
    label = "procedures"
    verbose_name = "Procedures"
    # A municipality's catalogue versions live in its own database.
    tenant_models = frozenset({"catalogueversion"})
