from django.db.transaction import non_atomic_requests
from django.urls import path

from groups import views

urlpatterns = [
    path("user_group", views.GroupListView.as_view(), name="user-groups"),
    path("user_group/<str:group_id>", views.GroupDetailView.as_view(), name="user-group"),
    # A read: no transaction (as customers/list), two round trips less on the hot path.
    path("user_group/<str:group_id>/users", non_atomic_requests(views.GroupUsersView.as_view()),
         name="user-group-users"),
]
