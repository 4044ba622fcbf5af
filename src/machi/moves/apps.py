from django.apps import AppConfig


class MovesConfig(AppConfig):
    name = "machi.moves"
    label = "moves"
    verbose_name = "Moves between municipalities"
    # Reservations and outgoing moves live in each municipality's own database;
    # the two sides talk only through their outboxes.
    tenant_models = "__all__"
