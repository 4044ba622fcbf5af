from django.apps import AppConfig


class AccessLogConfig(AppConfig):
    name = "machi.analytics.accesslog"
    label = "accesslog"
    verbose_name = "不正アクセスの検知"
    # Findings and their reviews belong to the municipality, beside its audit log.
    tenant_models = "__all__"
