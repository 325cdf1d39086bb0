"""Test data for scripts/fuzz.sh: one of everything the API's path parameters name, made
through the API itself, and the Schemathesis configuration that hands their ids to the
operations taking them.

Schemathesis follows the document's links from each create to the operations taking its
id, but most chains need several requests to succeed in a row (a visit, a dated term, its
opening, a valid application…), which generated data rarely does; without ids every such
operation would only ever answer 404 and never reach its rules. So a study visit with an
open term, a planned term and an application, a programme with an activity and a
consultation, and a network with a member are made first, and their ids are fixed for the
operations under those paths. Generated ids are still tried by the links and the coverage
phase.

    python3 scripts/fuzz/seed.py BASE_URL ADMIN_TOKEN BASE_CONFIG > config.toml
"""

import datetime
import json
import sys
import urllib.request

BASE, TOKEN, BASE_CONFIG = sys.argv[1], sys.argv[2], sys.argv[3]
ORGANIZER = "rops-torun"


def call(method, path, body=None, token=TOKEN):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


now = datetime.datetime.now(datetime.timezone.utc)
start = (now + datetime.timedelta(days=60)).date()
visit = call("POST", "/api/v1/study-visits", {
    "title": "Wizyta studyjna (dane do testów)",
    "destination": "województwo wielkopolskie",
    "eligible_institution_types": ["JST", "JOPS", "PES", "OWES"],
    "max_per_institution": 2,
    "preferences": [{"code": "cus_declared", "label": "JST deklarujące utworzenie CUS", "kind": "listed"}],
    "organizer": ORGANIZER,
})["id"]
term = call("POST", f"/api/v1/study-visits/{visit}/terms", {
    "label": "I termin", "seats": 25,
    "starts_on": start.isoformat(), "ends_on": (start + datetime.timedelta(days=1)).isoformat(),
    "recruitment_deadline": (now + datetime.timedelta(days=30)).isoformat(timespec="seconds"),
})["term_id"]
call("POST", f"/api/v1/study-visits/{visit}/terms/{term}/open")
planned_term = call("POST", f"/api/v1/study-visits/{visit}/terms", {
    "label": "II termin", "seats": 25, "planned": {"month": start.strftime("%Y-%m"), "part": "mid"},
})["term_id"]
application = call("POST", f"/api/v1/study-visits/{visit}/terms/{term}/applications", {
    "person": {"first_name": "Jan", "last_name": "Testowy", "email": "jan.testowy@gmina.example"},
    "institution": {"name": "Gmina Testowa", "type": "JST", "nip": "9562307984"},
    "consent": True,
}, token=None)

program = call("POST", "/api/v1/programs", {
    "title": "Program współpracy (dane do testów)", "kind": "cooperation_programme",
    "period": {"start": "2026-01-01", "end": "2027-12-31"}, "goals": ["Lepsza współpraca"],
    "indicators": [{"code": "trainings", "label": "Szkolenia", "target": 3, "measure": "activities_held:training"}],
    "organizer": ORGANIZER,
})["id"]
activity = call("POST", f"/api/v1/programs/{program}/activities", {
    "kind": "training", "title": "Szkolenie", "planned": {"month": "2027-03"},
})["activity_id"]
consultation = call("POST", f"/api/v1/programs/{program}/consultations", {
    "subject": "Model współpracy", "opens_on": "2026-01-01", "closes_on": "2027-12-31",
})["consultation_id"]

network = call("POST", "/api/v1/networks", {
    "name": "Sieć (dane do testów)", "region": "warmińsko-mazurskie",
    "member_types": ["CIS", "KIS", "ZAZ", "WTZ"], "established_on": "2016-12-08", "organizer": ORGANIZER,
})["id"]
member = call("POST", f"/api/v1/networks/{network}/members", {
    "institution": {"name": "Centrum Integracji Społecznej", "type": "CIS", "nip": "1000000035"},
    "declaration": {"signed_on": "2017-01-10"},
})["member_id"]


def operations(path_regex, **parameters):
    lines = ["", "[[operations]]", f'include-path-regex = "{path_regex}"']
    lines += ["[operations.parameters]"]
    lines += [f'"{name}" = "{value}"' for name, value in parameters.items()]
    return "\n".join(lines)


print(open(BASE_CONFIG).read().rstrip())
print(operations(
    "^/api/v1/study-visits/\\\\{id\\\\}",
    **{"path.id": visit, "path.term_id": term, "path.application_id": application["application_id"],
       "path.code": "cus_declared"},
))
print(operations("^/api/v1/audit/study-visits/", **{"path.id": visit}))
print(operations(
    "^/api/v1/applications/",
    **{"path.application_id": application["application_id"], "header.X-Applicant-Key": application["applicant_key"]},
))
print(operations(
    "^/api/v1/programs/\\\\{id\\\\}",
    **{"path.id": program, "path.activity_id": activity, "path.consultation_id": consultation},
))
print(operations("^/api/v1/audit/cooperation-programs/", **{"path.id": program}))
print(operations("^/api/v1/networks/\\\\{id\\\\}", **{"path.id": network, "path.member_id": member}))
print(operations("^/api/v1/audit/\\\\{aggregate_type\\\\}", **{"path.aggregate_type": "StudyVisit", "path.id": visit}))
print(f"# planned term (not fixed; reachable through the visit's links): {planned_term}", file=sys.stderr)
