from django.apps import AppConfig


class LocaleventsConfig(AppConfig):
    name = "machi.localevents"
    label = "localevents"
    verbose_name = "Local events (地域イベント)"
    # Events, organisers' mail addresses and reports live in the municipality's own
    # database, like residents' requests.
    tenant_models = "__all__"
