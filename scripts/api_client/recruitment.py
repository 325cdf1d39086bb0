"""A whole recruitment through the client generated from Koordynator's OpenAPI document,
without a line of hand-written HTTP: what a regional portal written against the document
would do. Run by scripts/api_client.sh, which generates the client (`koordynator_client`)
and starts the service; exits non-zero at the first answer that is not what the API
promises.

The visit: 3 seats, at most one person per institution, one preference (a listed NIP);
five applicants, two of them from one institution (the second is passed over for the cap),
one applying twice and one with a wrong NIP (both refused). After the close, the seat of an
allocated person is released and the first person waiting below the cap is promoted; each
applicant reads their own status with their key; an evaluator reads the history and
verifies every decision.
"""

import datetime
import os
import sys

from koordynator_client import AuthenticatedClient, Client
from koordynator_client.api.applications import (
    get_own_application,
    release_seat,
    submit_application,
)
from koordynator_client.api.audit import list_audit_events, verify_study_visit
from koordynator_client.api.rosters import get_roster
from koordynator_client.api.study_visits import (
    announce_study_visit,
    close_recruitment,
    get_study_visit,
    open_recruitment,
    replace_preference_list,
    schedule_term,
)
from koordynator_client.models import (
    AggregateType,
    AnnounceRequest,
    ApplicationRequest,
    ApplicationStatus,
    DatedTermRequest,
    FundingRequest,
    InstitutionRequest,
    InstitutionType,
    PersonRequest,
    PreferenceKind,
    PreferenceListRequest,
    PreferenceRequest,
    Problem,
    ReleaseRequest,
)

BASE = os.environ["KOORDYNATOR_URL"]
coordinator = AuthenticatedClient(base_url=BASE, token=os.environ["KOORDYNATOR_COORDINATOR"])
evaluator = AuthenticatedClient(base_url=BASE, token=os.environ["KOORDYNATOR_EVALUATOR"])
public = Client(base_url=BASE)

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def nip(n: int) -> str:
    """A valid NIP from nine digits starting at `n` (invented institutions)."""
    while True:
        digits = f"{n:09d}"
        check = sum(int(d) * w for d, w in zip(digits, NIP_WEIGHTS)) % 11
        if check != 10:
            return digits + str(check)
        n += 1


def expect(response, status: int, what: str):
    """The parsed answer of `response`, which must have `status`."""
    if response.status_code != status:
        sys.exit(
            f"recruitment: {what}: expected {status}, got {response.status_code}: "
            f"{response.content.decode(errors='replace')}"
        )
    if response.parsed is None:
        sys.exit(f"recruitment: {what}: the client could not read the answer")
    return response.parsed


def step(message: str):
    print(f"recruitment: {message}")


# The visit, its preference list, a term whose recruitment closes in a week, opened.
now = datetime.datetime.now(datetime.timezone.utc)
visit = expect(
    announce_study_visit.sync_detailed(
        client=coordinator,
        body=AnnounceRequest(
            title="Wizyta studyjna: dobre praktyki ekonomii społecznej",
            destination="województwo wielkopolskie",
            eligible_institution_types=[InstitutionType.JST, InstitutionType.JOPS, InstitutionType.PES, InstitutionType.OWES],
            max_per_institution=1,
            preferences=[
                PreferenceRequest(code="cus_declared", label="JST deklarujące utworzenie CUS", kind=PreferenceKind.LISTED)
            ],
            funding=FundingRequest(
                project="Koordynacja rozwoju ekonomii społecznej",
                programme="RPO WK-P 2014-2020",
                priority_axis="9",
                measure="9.4",
                sub_measure="9.4.2",
            ),
        ),
    ),
    201,
    "announce",
)
step(f"visit {visit.id} announced at position {visit.position}")

institutions = {
    name: nip(100_000_000 + 1000 * i)
    for i, name in enumerate(["Gmina A", "Gmina B", "Spółdzielnia C", "Stowarzyszenie E"])
}
expect(
    replace_preference_list.sync_detailed(
        visit.id,
        "cus_declared",
        client=coordinator,
        body=PreferenceListRequest(nips=[institutions["Gmina B"]]),
    ),
    200,
    "preference list",
)

start = (now + datetime.timedelta(days=30)).date()
term = expect(
    schedule_term.sync_detailed(
        visit.id,
        client=coordinator,
        body=DatedTermRequest(
            label="I termin",
            seats=3,
            starts_on=start,
            ends_on=start + datetime.timedelta(days=1),
            recruitment_deadline=(now + datetime.timedelta(days=7)).replace(microsecond=0),
        ),
    ),
    201,
    "schedule a term",
)
expect(open_recruitment.sync_detailed(visit.id, term.term_id, client=coordinator), 200, "open")
step(f"term {term.term_id} open")


def application(
    first: str, last: str, email: str, institution: str, kind: InstitutionType, nip_: str
) -> ApplicationRequest:
    return ApplicationRequest(
        person=PersonRequest(first_name=first, last_name=last, email=email),
        institution=InstitutionRequest(name=institution, type_=kind, nip=nip_),
        consent=True,
    )


# Five applications from the public form (no token): two from C (one institution, the cap
# is one), then A and E, then B (on the preference's list: ranked first).
applied = {}
for first, last, email, inst, kind in [
    ("Celina", "Kowalska", "celina@spoldzielnia-c.example", "Spółdzielnia C", InstitutionType.PES),
    ("Cezary", "Wiśniewski", "cezary@spoldzielnia-c.example", "Spółdzielnia C", InstitutionType.PES),
    ("Anna", "Nowak", "anna.nowak@gmina-a.example", "Gmina A", InstitutionType.JST),
    ("Ewa", "Mazur", "ewa@stowarzyszenie-e.example", "Stowarzyszenie E", InstitutionType.NGO),
    ("Bartosz", "Zieliński", "bartosz@gmina-b.example", "Gmina B", InstitutionType.JST),
]:
    created = expect(
        submit_application.sync_detailed(
            visit.id, term.term_id, client=public, body=application(first, last, email, inst, kind, institutions[inst])
        ),
        201,
        f"{first} applies",
    )
    applied[first] = created
last_position = applied["Bartosz"].position
step(f"{len(applied)} applications recorded")

# Refusals are typed problems: a NIP with a wrong check digit (422 naming the field), and
# the same e-mail applying again (409).
wrong = institutions["Gmina A"][:9] + str((int(institutions["Gmina A"][9]) + 1) % 10)
refused = expect(
    submit_application.sync_detailed(
        visit.id, term.term_id, client=public,
        body=application("Dorota", "Lis", "dorota@gmina-d.example", "Gmina D", InstitutionType.JST, wrong),
    ),
    422,
    "a wrong NIP",
)
assert isinstance(refused, Problem), refused
fields = [e.field for e in refused.errors]
assert fields == ["institution.nip"], fields
again = expect(
    submit_application.sync_detailed(
        visit.id, term.term_id, client=public,
        body=application(
            "Anna", "Nowak", "anna.nowak@gmina-a.example", "Gmina A", InstitutionType.JST, institutions["Gmina A"]
        ),
    ),
    409,
    "the same person again",
)
assert isinstance(again, Problem) and again.status == 409, again
step(f"refusals read as problems: {refused.type_}, {again.type_}")

# The provisional ranking, read with the position of the last submission.
roster = expect(
    get_roster.sync_detailed(visit.id, term.term_id, client=coordinator, min_position=last_position),
    200,
    "provisional roster",
)
assert roster.provisional, roster

def ids(entries):
    return [str(e.application_id) for e in entries]


def of(*names):
    return [str(applied[n].application_id) for n in names]


assert ids(roster.allocated) == of("Bartosz", "Celina", "Anna"), ids(roster.allocated)
assert ids(roster.waitlist) == of("Ewa") and ids(roster.passed_over) == of("Cezary")
step("provisional roster: the preference first, then submission order, one seat per institution")

# Close: the allocation is recorded. Ewa waits; Cezary (C holds its one seat) is passed over.
closed = expect(close_recruitment.sync_detailed(visit.id, term.term_id, client=coordinator), 200, "close")
roster = expect(
    get_roster.sync_detailed(visit.id, term.term_id, client=coordinator, min_position=closed.position),
    200,
    "final roster",
)
assert not roster.provisional
assert ids(roster.allocated) == of("Bartosz", "Celina", "Anna"), ids(roster.allocated)
assert ids(roster.waitlist) == of("Ewa") and ids(roster.passed_over) == of("Cezary")
assert all(e.person is not None for e in roster.allocated), "a coordinator sees names"

# Anna cannot go: her seat is released and Ewa, the first waiting below the cap, promoted.
released = expect(
    release_seat.sync_detailed(
        visit.id, applied["Anna"].application_id, client=coordinator, body=ReleaseRequest(reason="Rezygnacja z udziału")
    ),
    200,
    "release a seat",
)
roster = expect(
    get_roster.sync_detailed(visit.id, term.term_id, client=coordinator, min_position=released.position),
    200,
    "roster after the release",
)
assert ids(roster.allocated) == of("Bartosz", "Celina", "Ewa"), ids(roster.allocated)
step("a released seat went to the first person waiting")

# Each applicant reads their own status with their key.
expected = {
    "Anna": ApplicationStatus.RELEASED,
    "Celina": ApplicationStatus.ALLOCATED,
    "Ewa": ApplicationStatus.ALLOCATED,
    "Cezary": ApplicationStatus.PASSED_OVER,
    "Bartosz": ApplicationStatus.ALLOCATED,
}
for name, status in expected.items():
    own = expect(
        get_own_application.sync_detailed(
            applied[name].application_id,
            client=public,
            x_applicant_key=applied[name].applicant_key,
            min_position=released.position,
        ),
        200,
        f"{name}'s own status",
    )
    assert own.status == status, (name, own.status)
wrong_key = get_own_application.sync_detailed(applied["Anna"].application_id, client=public, x_applicant_key="nie-ten")
assert wrong_key.status_code == 404, wrong_key.status_code
step("applicants read their own status; a wrong key is 404")

# The evaluator: the visit's whole history in commit order, page by page, and the
# re-derivation of every decision.
seen = []
after = 0
while True:
    page = expect(
        list_audit_events.sync_detailed(
            client=evaluator,
            aggregate_type=AggregateType.STUDYVISIT,
            aggregate_id=str(visit.id),
            after=after,
            limit=5,
        ),
        200,
        "audit events",
    )
    seen += page.events
    if len(page.events) < 5:
        break
    after = page.next_after
types = [e.event_type for e in seen]
assert types[0] == "VisitAnnounced" and "SeatReleased" in types, types
assert [e.position for e in seen] == sorted(e.position for e in seen)
verified = expect(verify_study_visit.sync_detailed(visit.id, client=evaluator), 200, "verify")
assert verified.consistent and verified.checked > 0, verified
detail = expect(get_study_visit.sync_detailed(visit.id, client=evaluator), 200, "the visit")
assert detail.title.startswith("Wizyta studyjna")
step(f"{len(seen)} events in commit order; verify: consistent, {verified.checked} decisions checked")
print("recruitment: a whole recruitment ran through the generated client")
