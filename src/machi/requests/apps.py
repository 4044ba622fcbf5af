from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "machi.requests"
    label = "requests"
    verbose_name = "Residents' requests and opinions"
    # Categories, areas, rules and requests live in the municipality's own database:
    # one municipality's residents' reports are never reachable from another's.
    tenant_models = "__all__"

    def ready(self) -> None:
        from machi.requests import checks  # noqa: F401 (registers the deploy checks)
