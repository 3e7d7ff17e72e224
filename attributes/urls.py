from django.urls import path

from attributes import bulk_views, filter_views, views

urlpatterns = [
    path("user_attribute/definition", views.DefinitionListView.as_view(), name="attribute-definitions"),
    path("user_attribute/definition/<str:attribute_def_id>", views.DefinitionDetailView.as_view(),
         name="attribute-definition"),
    path("user_attribute/definition/<str:attribute_def_id>/user/<str:user_id>", views.UserAttributeView.as_view(),
         name="user-attribute"),
    path("user_attribute/user/<str:user_id>", views.CustomerAttributesView.as_view(), name="customer-attributes"),
    path("user_attribute/bulk_update", bulk_views.BulkUpdateView.as_view(), name="attribute-bulk-update"),
    path("user_attribute/bulk_update/per_user", bulk_views.BulkUpdatePerUserView.as_view(),
         name="attribute-bulk-update-per-user"),
    path("user_attribute/users", filter_views.FilterUsersView.as_view(), name="attribute-filter-users"),
    path("user_attribute/attribute/<str:attribute_id>", views.AttributeByIdView.as_view(),
         name="user-attribute-by-id"),
]
