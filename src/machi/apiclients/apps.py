from django.apps import AppConfig


class ApiClientsConfig(AppConfig):
    name = "machi.apiclients"
    label = "apiclients"
    verbose_name = "API clients"
    # A municipality's registered systems live in its own database: a token of
    # one municipality is unknown in every other.
    tenant_models = "__all__"
