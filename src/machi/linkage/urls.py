from django.urls import path

from machi.linkage import views

app_name = "linkage"

urlpatterns = [
    path("<lg:lg_code>/admin/subscriptions/", views.subscriptions, name="subscriptions"),
    path(
        "<lg:lg_code>/admin/subscriptions/<int:pk>/",
        views.subscription_detail,
        name="subscription_detail",
    ),
    path(
        "<lg:lg_code>/admin/subscriptions/<int:pk>/disable/",
        views.subscription_disable,
        name="subscription_disable",
    ),
    path(
        "<lg:lg_code>/admin/subscriptions/<int:pk>/resend/",
        views.delivery_resend,
        name="delivery_resend",
    ),
    path("<lg:lg_code>/admin/linkage/", views.operations, name="operations"),
]
