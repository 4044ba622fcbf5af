from django.apps import AppConfig


class StandardDataConfig(AppConfig):
    name = "machi.opendata.standard"
    label = "standarddata"
    verbose_name = "自治体標準オープンデータセット"
    # The facility masters are the municipality's own data, in its own database.
    tenant_models = "__all__"
