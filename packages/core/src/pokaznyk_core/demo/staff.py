"""The demo's staff sign-ins and the field inspectors' routes for today."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from pokaznyk_core.demo.generator import FIELD_INSPECTORS, RouteCandidate, staff_timestamp
from pokaznyk_core.demo.rows import Row

ROUTE_LENGTH = 25


@dataclass(frozen=True)
class DemoStaff:
    """A demo staff sign-in, printed by ``pokaznyk demo``."""

    username: str
    role: str
    password: str
    full_name: str


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin", "admin", "demo-admin-2026", "Гончаренко Ірина Василівна"),
    DemoStaff("manager", "manager", "demo-manager-2026", "Кравчук Олег Миколайович"),
    DemoStaff(FIELD_INSPECTORS[0], "field", "demo-field1-2026", "Мельник Андрій Петрович"),
    DemoStaff(FIELD_INSPECTORS[1], "field", "demo-field2-2026", "Савченко Оксана Іванівна"),
)


def staff_rows(hashes: list[str], today: date) -> list[Row]:
    """staff_user rows (ids 1…) for :data:`DEMO_STAFF` with their password hashes."""
    return [
        (index, staff.username, staff.full_name, staff.role, password_hash, True, "uk",
         staff_timestamp(today, 400 - 10 * index, 7))
        for index, (staff, password_hash) in enumerate(zip(DEMO_STAFF, hashes, strict=True), 1)
    ]  # fmt: skip


def route_rows(candidates: list[RouteCandidate], today: date) -> tuple[list[Row], list[Row]]:
    """Today's route for each field inspector: the best-filled street, in walk order.

    Each inspector takes the street with the most metering points not yet taken, in
    ascending building (and apartment) order, continuing on the next street of the same
    settlement until the route has :data:`ROUTE_LENGTH` stops.
    """
    by_street: dict[tuple[str, str], list[RouteCandidate]] = defaultdict(list)
    for candidate in candidates:
        by_street[candidate.settlement, candidate.street].append(candidate)
    for stops in by_street.values():
        stops.sort(key=_walk_order)
    routes: list[Row] = []
    route_stops: list[Row] = []
    staff_ids = [i for i, s in enumerate(DEMO_STAFF, 1) if s.role == "field"]
    for route_id, staff_id in enumerate(staff_ids, 1):
        if not by_street:
            break
        settlement, street = max(by_street, key=lambda key: (len(by_street[key]), key))
        others = sorted(k[1] for k in by_street if k[0] == settlement and k[1] != street)
        streets = [street, *others]
        chosen: list[RouteCandidate] = []
        for name in streets:
            stops = by_street.pop((settlement, name))
            chosen.extend(stops[: ROUTE_LENGTH - len(chosen)])
            if len(chosen) >= ROUTE_LENGTH:
                break
        routes.append((route_id, staff_id, today, staff_timestamp(today, 0, 4)))
        for position, stop in enumerate(chosen, 1):
            route_stops.append((len(route_stops) + 1, route_id, position, stop.point_id, ""))
    return routes, route_stops


def _walk_order(candidate: RouteCandidate) -> tuple[int, str, int]:
    apartment = int(candidate.apartment) if candidate.apartment else 0
    return candidate.building_number, candidate.building, apartment
