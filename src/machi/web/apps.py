from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "machi.web"
    label = "web"
    verbose_name = "Web"
    tenant_models: frozenset[str] = frozenset()
