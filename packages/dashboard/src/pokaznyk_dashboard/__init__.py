"""Pokaznyk web: webhooks, IVR, public form, cabinet, dashboard, admin and JSON API."""
