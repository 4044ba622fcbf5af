from django.apps import AppConfig


class ForecastConfig(AppConfig):
    name = "machi.analytics.forecast"
    label = "forecast"
    verbose_name = "来庁者数予測"
    # Calendar events staff add (給付金の締切 …) belong to the municipality.
    tenant_models = "__all__"
