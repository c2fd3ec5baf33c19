"""The platform's services: complaints, escalation, scheduling, analytics, and their shared package."""
