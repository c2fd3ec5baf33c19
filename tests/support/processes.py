"""What each process of the platform reads and listens on, for the checks of its deployments (compose, Helm)."""

# Each process's address and port settings (its module's settings class listens on them).
LISTENS_ON = {
    "services.complaints": ("COMPLAINTS_HOST", "COMPLAINTS_PORT"),
    "services.complaints.worker": ("COMPLAINTS_HOST", "COMPLAINTS_WORKER_PORT"),
    "services.scheduling": ("SCHEDULING_HOST", "SCHEDULING_PORT"),
    "services.scheduling.worker": ("SCHEDULING_HOST", "SCHEDULING_WORKER_PORT"),
    "services.notifications": ("NOTIFICATIONS_HOST", "NOTIFICATIONS_PORT"),
    "services.escalation": ("ESCALATION_WORKER_HOST", "ESCALATION_WORKER_PORT"),
    "services.escalation.boards": ("ESCALATION_HOST", "ESCALATION_PORT"),
    "services.analytics": ("ANALYTICS_HOST", "ANALYTICS_PORT"),
    "services.analytics.reports": ("ANALYTICS_REPORTS_HOST", "ANALYTICS_REPORTS_PORT"),
    "services.webapp": ("WEBAPP_HOST", "WEBAPP_PORT"),
}
# The settings classes each process reads beside PlatformSettings.
READS = {
    "services.complaints": ["ComplaintsSettings"], "services.complaints.worker": ["ComplaintsSettings"],
    "services.scheduling": ["SchedulingSettings"], "services.scheduling.worker": ["SchedulingSettings"],
    "services.notifications": ["NotificationsSettings"], "services.escalation": ["EscalationSettings"],
    "services.escalation.boards": ["EscalationSettings"], "services.analytics": ["AnalyticsSettings", "PipelineSettings"],
    "services.analytics.reports": ["AnalyticsSettings"], "services.webapp": ["WebappSettings"],
}
# Where each HTTP process's app is built from its settings (as its __main__ does), "module:function".
BUILDS = {
    "services.complaints": "services.complaints.api.app:build_app",
    "services.complaints.worker": "services.complaints.worker:build_worker",
    "services.scheduling": "services.scheduling.api.app:build_app",
    "services.scheduling.worker": "services.scheduling.worker:build_worker",
    "services.notifications": "services.notifications.api.app:build_app",
    "services.escalation.boards": "services.escalation.boards.api:build_app",
    "services.analytics.reports": "services.analytics.reports.api:build_app",
    "services.webapp": "services.webapp.app:build_app",
}
