from django.apps import AppConfig


class EasyJaConfig(AppConfig):
    name = "machi.easyja"
    label = "easyja"
    verbose_name = "やさしい日本語"
    # The ふりがな setting and the reading corrections are the municipality's own.
    tenant_models = "__all__"
