from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    label = "customer_groups"
    verbose_name = "Customer groups"
