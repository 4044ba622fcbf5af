from django.apps import AppConfig


class OpendataConfig(AppConfig):
    name = "machi.opendata"
    label = "opendata"
    verbose_name = "Open data catalogue (オープンデータカタログ)"
    # A municipality's catalogue (datasets, resource files and their versions) lives in
    # its own database, like its website.
    tenant_models = "__all__"
