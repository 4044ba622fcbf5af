from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "machi.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    tenant_models: frozenset[str] = frozenset()

    def ready(self) -> None:
        from machi.accounts import signals  # noqa: F401
