from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "machi.analytics"
    label = "analytics"
    verbose_name = "分析ダッシュボード"
