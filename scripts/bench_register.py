"""The register service on its own, for scripts/bench.py: seeding the register in-process through
the service's own referral function, then referrals created through the HTTP API and the time of
GET /api/v1/register over everything seeded.

`python scripts/bench_register.py seed COUNT` (with DSP_VAR_DIR set) seeds COUNT referrals and
prints one JSON line. Every person is made up: "Alex Example", valid-looking NHS numbers from a
serial range, example postcodes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from bench_stats import summary

AREAS = {"llr": "leicester_city", "tees_valley": "stockton", "west_sussex": "west_sussex"}
POSTCODES = {"llr": "LE1 6TH", "tees_valley": "TS18 1AA", "west_sussex": "BN11 1AA"}
CRITERIA = {"llr": ["amber.carer_strain", "amber.behaviours_that_challenge"]}
# Seeded entries and those created over HTTP draw NHS numbers from ranges that never meet.
SEED_SERIALS = 200_000_001
HTTP_SERIALS = 400_000_001


def nhs_numbers(start: int) -> Any:
    """Valid NHS numbers (modulus 11) from a serial, skipping stems without a check digit."""
    from dsp_backend.formats import nhs_check_digit

    for serial in itertools.count(start):
        stem = f"{serial:09d}"
        check = nhs_check_digit(stem)
        if check is not None:
            yield f"{stem}{check}"


def referral_body(variant_id: str, nhs_number: str, today: date) -> dict[str, Any]:
    """A made-up professional referral every rule of the variant accepts (as the backend tests'
    factory makes them): a 12-year-old, autism, amber where the variant rates at referral."""
    born = today.replace(year=today.year - 12) - timedelta(days=10)
    answers: dict[str, Any] = {
        "referrer_kind": "health",
        "diagnosis": "autism",
        "diagnosis_confirmed": True,
        "diagnosis_evidence": "Diagnosis letter from the community paediatrician",
        "council_area": AREAS.get(variant_id, "leicester_city"),
        "current_situation": "Not sleeping, more distressed at school; family finding it hard.",
        "concerns": CRITERIA.get(variant_id, []),
        "inpatient_status": "neither",
        "imminent_risk": False,
        "consent_by": "parent_carer_guardian",
        "consent_date": (today - timedelta(days=3)).isoformat(),
        "person_name": {"given": "Alex", "family": "Example"},
        "date_of_birth": born.isoformat(),
        "nhs_number": nhs_number,
        "postcode": POSTCODES.get(variant_id, "LE1 6TH"),
        "referrer_name": "Sam Referrer",
        "referrer_role": "Community nurse",
        "referrer_organisation": "Example Trust",
        "referrer_email": "sam.referrer@nhs.net",
    }
    if variant_id == "llr":
        answers["rag"] = "amber"
        answers["mam_by_admin"] = False
    else:
        answers["autism_private"] = False
    if variant_id == "tees_valley":
        answers.update(
            lac_cin_cpp="cin",
            ehcp=True,
            ehcp_primary_need="Social, emotional and mental health",
            lives_with="Mother and younger brother",
            school="Example Academy",
            who_is_involved="CAMHS, school SENCo",
            police_or_crisis=False,
            outcomes_wanted="Stays at home and in school.",
            gender="male, he/him",
        )
    return {"referral_source": "professional", "answers": answers}


def seed(count: int, batch: int = 250) -> dict[str, Any]:
    """Puts `count` made-up people on the register through referrals.service.submit, the
    function behind POST /api/v1/referrals, committing every `batch`."""
    from dsp_backend.auth import service as auth_service
    from dsp_backend.auth.schemas import Role
    from dsp_backend.config import get_settings
    from dsp_backend.database.core import get_sessionmaker
    from dsp_backend.referrals import service as referral_service
    from dsp_backend.referrals.schemas import ReferralCreate
    from dsp_backend.variants import service as variant_service

    settings = get_settings()
    variant = variant_service.load(settings.variant)
    numbers = nhs_numbers(SEED_SERIALS)
    started = time.monotonic()
    done = 0
    with get_sessionmaker()() as db_session:
        row, _token = auth_service.create(
            db_session=db_session, role=Role.referrer, label="bench-seed"
        )
        actor = auth_service.actor_by_id(db_session=db_session, token_id=row.id)
        assert actor is not None
        while done < count:
            for _ in range(min(batch, count - done)):
                now = datetime.now(UTC)
                body = referral_body(variant.id, next(numbers), now.date())
                referral_service.submit(
                    db_session=db_session,
                    actor=actor,
                    referral=ReferralCreate.model_validate(body),
                    variant=variant,
                    now=now,
                )
                done += 1
            db_session.commit()
    return {"seeded": done, "seconds": round(time.monotonic() - started, 2)}


async def create_referrals(
    url: str, token: str, variant_id: str, count: int, concurrency: int
) -> dict[str, Any]:
    """POST /api/v1/referrals with a referrer's token, `concurrency` at a time, closed loop."""
    numbers = nhs_numbers(HTTP_SERIALS)
    latencies: list[float] = []
    errors = 0
    remaining = itertools.count()
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while next(remaining) < count:
            body = referral_body(variant_id, next(numbers), date.today())
            began = time.perf_counter()
            try:
                response = await client.post("/api/v1/referrals", json=body, headers=headers)
                if response.status_code != 201:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "count": len(latencies),
        "concurrency": concurrency,
        "errors": errors,
        "seconds": round(seconds, 2),
        "per_second": round(len(latencies) / seconds, 1) if seconds else None,
        "latency_ms": summary(latencies),
    }


async def list_register(url: str, token: str, count: int) -> dict[str, Any]:
    """GET /api/v1/register `count` times, one after another; the rows of the last answer."""
    latencies: list[float] = []
    errors = rows = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for _ in range(count):
            began = time.perf_counter()
            try:
                response = await client.get("/api/v1/register", headers=headers)
                if response.status_code == 200:
                    rows = len(response.json())
                else:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - began) * 1000)
    return {"count": count, "errors": errors, "rows": rows, "latency_ms": summary(latencies)}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "seed":
        raise SystemExit("usage: bench_register.py seed COUNT")
    print(json.dumps(seed(int(sys.argv[2]))), flush=True)
