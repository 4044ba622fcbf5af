from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "machi.counter"
    label = "counter"
    verbose_name = "Counter"
    # Every counter model (tickets; later visits, intake, tasks) lives in the
    # municipality's database.
    tenant_models = "__all__"
