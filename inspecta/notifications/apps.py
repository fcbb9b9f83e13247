from django.utils.translation import gettext_lazy as _

from inspecta.core.appconfig import ApiMount, InspectaAppConfig, UrlMount


class NotificationsConfig(InspectaAppConfig):
    """Messages to people: the inbox of everyone, e-mail and SMS as each person chooses,
    and the platform-health alerts to the operators (T/CECS 8.2.4). The inbox is reached
    from the bell beside the user menu (``context_processors.inbox``), not from an entry
    of the bar; the operators' delivery list and the preferences from the inbox page."""

    name = "inspecta.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    api_routers = (ApiMount("/notifications/", "inspecta.notifications.api:router"),)
    urls = (UrlMount("notifications/", "inspecta.notifications.urls"),)
    notification_kinds = "inspecta.notifications.notices:KINDS"
