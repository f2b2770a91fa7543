"""Demo data: a deterministic region of customers with two years of readings.

``load_demo_data`` fills an empty database in one transaction; ``DEMO_STAFF`` are the
sign-ins it creates (printed by ``pokaznyk demo``).
"""

from pokaznyk_core.demo.loader import DemoSummary, load_demo_data
from pokaznyk_core.demo.staff import DEMO_STAFF, DemoStaff

__all__ = ["DEMO_STAFF", "DemoStaff", "DemoSummary", "load_demo_data"]
