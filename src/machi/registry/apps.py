from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "machi.registry"
    label = "registry"
    verbose_name = "Registry"
    tenant_models = "__all__"
