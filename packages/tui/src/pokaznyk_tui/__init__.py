"""Pokaznyk field app for meter inspectors (Textual)."""
