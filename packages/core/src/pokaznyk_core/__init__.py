"""Pokaznyk core: domain rules, storage, dialog engine, services and the CLI."""
