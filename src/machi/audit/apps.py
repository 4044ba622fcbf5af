from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "machi.audit"
    label = "audit"
    verbose_name = "Audit"
    # The municipality's own log lives in its database; the platform's log (operators,
    # unknown usernames, municipality creation) lives in the control database.
    tenant_models = frozenset({"auditentry", "auditchainhead"})
