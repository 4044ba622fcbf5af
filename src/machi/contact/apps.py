from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "machi.contact"
    label = "contact"
    verbose_name = "Contact center"
    # Tickets, SLA settings and the FAQ live in the municipality's own database.
    tenant_models = "__all__"
