from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "machi.linkage"
    label = "linkage"
    verbose_name = "Linkage"
    tenant_models = frozenset({"outboxevent", "outboxsequence", "subscription", "delivery"})
