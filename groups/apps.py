from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    label = "customer_groups"
    verbose_name = "Customer groups"

    def ready(self):
        from attributes import services as attribute_services
        from groups import processing  # noqa: F401  registers the group_file job handler
        from groups.selectors import groups_using_definition

        attribute_services.register_in_use_check(groups_using_definition)
