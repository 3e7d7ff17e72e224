from django.db.transaction import non_atomic_requests
from django.urls import path

from webhooks import views

urlpatterns = [
    path("webhooks/subscriptions", views.SubscriptionsView.as_view(), name="webhook-subscriptions"),
    path("webhooks/subscriptions/<str:subscription_id>", views.SubscriptionView.as_view(),
         name="webhook-subscription"),
    path("webhooks/subscriptions/<str:subscription_id>/secret", views.SecretView.as_view(), name="webhook-secret"),
    path("webhooks/subscriptions/<str:subscription_id>/deliveries", non_atomic_requests(views.DeliveriesView.as_view()),
         name="webhook-deliveries"),
    path("webhooks/subscriptions/<str:subscription_id>/redeliver", views.RedeliverView.as_view(),
         name="webhook-redeliver"),
]
