"""The domain: pure rules and values of meter readings. No I/O, no clock, no database.

Every rule takes the facts it needs as arguments and returns a value or a verdict whose
outcomes are :class:`Code` values, worded by ``pokaznyk_core.i18n``.
"""

from pokaznyk_core.domain.accounts import (
    normalize_phone_digits,
    surname_matches,
    validate_account_number,
)
from pokaznyk_core.domain.checks import (
    ConsumptionHistory,
    Flag,
    PlausibilityLimits,
    PreviousReading,
    ReadingVerdict,
    check_reading,
    check_typed_reading,
)
from pokaznyk_core.domain.eic import EIC_ALPHABET, eic_check_character, make_eic, validate_eic
from pokaznyk_core.domain.estimates import (
    EstimateReconciliation,
    daily_average,
    estimate_consumption,
    reconcile,
)
from pokaznyk_core.domain.meters import (
    MeterReplacement,
    MeterSpec,
    make_meter_spec,
    plan_replacement,
)
from pokaznyk_core.domain.outcomes import CODE_PARAMS, Code, Problem
from pokaznyk_core.domain.receipts import (
    RECEIPT_ALPHABET,
    RECEIPT_LENGTH,
    ReceiptLookupLimits,
    normalize_receipt,
    receipt_entry_problem,
    receipt_from_uuid,
    receipt_lookup_gate,
    spoken_receipt,
)
from pokaznyk_core.domain.values import format_value, parse_value
from pokaznyk_core.domain.verification import (
    VerificationGate,
    VerificationLimits,
    verification_gate,
)
from pokaznyk_core.domain.window import (
    Period,
    Placement,
    WindowConfig,
    WindowState,
    local_date,
    place_reading,
    window_of,
    window_state,
)
from pokaznyk_core.domain.zones import Zone, ZoneValues, zones_for

__all__ = [
    "CODE_PARAMS",
    "EIC_ALPHABET",
    "RECEIPT_ALPHABET",
    "RECEIPT_LENGTH",
    "Code",
    "ConsumptionHistory",
    "EstimateReconciliation",
    "Flag",
    "MeterReplacement",
    "MeterSpec",
    "Period",
    "Placement",
    "PlausibilityLimits",
    "PreviousReading",
    "Problem",
    "ReadingVerdict",
    "ReceiptLookupLimits",
    "VerificationGate",
    "VerificationLimits",
    "WindowConfig",
    "WindowState",
    "Zone",
    "ZoneValues",
    "check_reading",
    "check_typed_reading",
    "daily_average",
    "eic_check_character",
    "estimate_consumption",
    "format_value",
    "local_date",
    "make_eic",
    "make_meter_spec",
    "normalize_phone_digits",
    "normalize_receipt",
    "parse_value",
    "place_reading",
    "plan_replacement",
    "receipt_entry_problem",
    "receipt_from_uuid",
    "receipt_lookup_gate",
    "reconcile",
    "spoken_receipt",
    "surname_matches",
    "validate_account_number",
    "validate_eic",
    "verification_gate",
    "window_of",
    "window_state",
    "zones_for",
]
