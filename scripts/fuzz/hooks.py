"""Schemathesis hooks for Koordynator: generators for what JSON Schema cannot say.

- `nip` and `regon` (custom formats of the OpenAPI document): numbers whose last digit is a
  weighted check digit (docs: DOMAIN.md). Without generators nearly every generated NIP
  would be refused for its check digit, and no request would reach the rules behind it.
(`min_position` is fixed in schemathesis.toml beside this file.)
"""

import uuid

import schemathesis
from hypothesis import strategies as st

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)


def _nip(digits: str):
    check = sum(int(d) * w for d, w in zip(digits, NIP_WEIGHTS)) % 11
    return None if check == 10 else digits + str(check)


def _regon(digits: str, weights):
    check = sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10
    return digits + str(check)


nips = (
    st.integers(min_value=100_000_000, max_value=999_999_999)
    .map(lambda n: _nip(str(n)))
    .filter(lambda n: n is not None)
)
regons = st.one_of(
    st.integers(min_value=10_000_000, max_value=99_999_999).map(lambda n: _regon(str(n), REGON9_WEIGHTS)),
    st.integers(min_value=1_000_000_000_000, max_value=9_999_999_999_999).map(
        lambda n: _regon(str(n), REGON14_WEIGHTS)
    ),
)

schemathesis.openapi.format("nip", nips)
schemathesis.openapi.format("regon", regons)


@schemathesis.hook
def before_call(context, case, kwargs):
    """A client sends a fresh `Idempotency-Key` with each new request; the fuzzer would
    reuse one generated value for different bodies, which the service rightly refuses (422).
    A valid key gets a unique suffix just before it is sent (every phase passes here); an
    invalid one is left as generated (it must be refused)."""
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative:
        # A negative case must reach the service as generated (an edit would revalidate it
        # as positive and send the headers it lacks on purpose).
        return
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 0 < len(key) <= 160 and all(" " <= c <= "~" for c in key):
        case.headers["Idempotency-Key"] = f"{key}-{uuid.uuid4().hex}"
