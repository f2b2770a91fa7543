"""The reading form shared by /submit and the cabinet: one field per zone of each meter in
service, read from the posted form and checked by the core's rules.

Field names are ``m<meter id>_<zone>`` (``m12_day``); ``same_<meter id>`` is the "no
consumption" box, which takes the meter's last values; ``rid_<meter id>`` carries the
reading's UUID from the confirmation page, so a retried POST stores it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from pokaznyk_core.domain.checks import PlausibilityLimits
from pokaznyk_core.domain.outcomes import Problem
from pokaznyk_core.domain.zones import Zone
from pokaznyk_core.services.customer_readings import (
    AccountMeters,
    MeterFacts,
    check_meter_texts,
    check_zone_text,
)


def field_name(meter_id: int, zone: Zone) -> str:
    """The form field of one zone of one meter."""
    return f"m{meter_id}_{zone.value}"


@dataclass(frozen=True)
class ZoneField:
    """One input: its name, the zone, what was typed and what is wrong with it."""

    name: str
    zone: Zone
    text: str
    last: str
    problem: Problem | None = None


@dataclass(frozen=True)
class MeterForm:
    """The fields of one meter, with the problems and notices of its reading."""

    meter: MeterFacts
    fields: tuple[ZoneField, ...]
    same: bool = False
    entered: bool = False
    problems: tuple[Problem, ...] = ()
    notices: tuple[Problem, ...] = ()
    values: Mapping[Zone, Decimal] | None = None

    @property
    def ok(self) -> bool:
        """No problem with this meter's fields."""
        return not self.problems and all(f.problem is None for f in self.fields)

    def canonical(self) -> dict[str, str]:
        """The checked values as hidden fields for the confirmation page."""
        if self.values is None:
            return {}
        return {
            field_name(self.meter.meter_id, z): self.meter.spec.format(v)
            for z, v in self.values.items()
        }


@dataclass(frozen=True)
class ReadingForm:
    """The whole form: every meter, and whether anything at all was entered."""

    meters: tuple[MeterForm, ...]
    nothing_entered: bool = False

    @property
    def ok(self) -> bool:
        """Ready to confirm: something entered and no problem anywhere."""
        return not self.nothing_entered and all(m.ok for m in self.meters)

    @property
    def to_submit(self) -> tuple[MeterForm, ...]:
        """The meters with a checked reading to store."""
        return tuple(m for m in self.meters if m.entered and m.values is not None)


def blank_form(account: AccountMeters) -> ReadingForm:
    """The empty form of an account, showing each zone's last value."""
    return ReadingForm(
        tuple(
            MeterForm(
                meter=m,
                fields=tuple(
                    ZoneField(field_name(m.meter_id, z), z, "", m.last_text(z)) for z in m.zones
                ),
            )
            for m in account.meters
        )
    )


def _meter_form(
    meter: MeterFacts, data: Mapping[str, str], today: date, limits: PlausibilityLimits
) -> MeterForm:
    same = bool(data.get(f"same_{meter.meter_id}"))
    texts = {
        z: meter.last_text(z) if same else data.get(field_name(meter.meter_id, z), "").strip()
        for z in meter.zones
    }
    if not any(texts.values()):
        fields = tuple(
            ZoneField(field_name(meter.meter_id, z), z, "", meter.last_text(z)) for z in meter.zones
        )
        return MeterForm(meter, fields)
    values, verdict = check_meter_texts(meter, texts, today, limits)
    zone_names = {z.value for z in meter.zones}
    by_zone = {p.field: p for p in reversed(verdict.problems) if p.field in zone_names}
    fields = tuple(
        ZoneField(
            field_name(meter.meter_id, z), z, texts[z], meter.last_text(z), by_zone.get(z.value)
        )
        for z in meter.zones
    )
    return MeterForm(
        meter=meter,
        fields=fields,
        same=same,
        entered=True,
        problems=tuple(p for p in verdict.problems if p.field not in zone_names),
        notices=verdict.notices,
        values=values if verdict.accepted else None,
    )


def read_form(
    account: AccountMeters, data: Mapping[str, str], today: date, limits: PlausibilityLimits
) -> ReadingForm:
    """Read and check every meter's fields; a meter left blank is not submitted."""
    meters = tuple(_meter_form(m, data, today, limits) for m in account.meters)
    return ReadingForm(meters, nothing_entered=not any(m.entered for m in meters))


def check_one_field(
    account: AccountMeters,
    data: Mapping[str, str],
    today: date,
    limits: PlausibilityLimits,
) -> tuple[str, Problem | None] | None:
    """The instant check of one field (``meter`` and ``zone`` name it): the field's name
    and its problem; None when the meter or zone is not the account's."""
    try:
        meter = account.meter(int(data.get("meter", "")))
        zone = Zone(data.get("zone", ""))
    except ValueError:
        return None
    if meter is None or zone not in meter.zones:
        return None
    name = field_name(meter.meter_id, zone)
    text = data.get(name, "").strip()
    if not text:
        return name, None  # an empty field is only an error when the form is submitted
    return name, check_zone_text(meter, zone, text, today, limits)


def reading_ids(form: ReadingForm, data: Mapping[str, str]) -> dict[int, UUID] | None:
    """The reading UUIDs the confirmation page generated, or None when one is missing."""
    ids: dict[int, UUID] = {}
    for m in form.to_submit:
        try:
            ids[m.meter.meter_id] = UUID(data.get(f"rid_{m.meter.meter_id}", ""))
        except ValueError:
            return None
    return ids
