"""Schemathesis hooks for Koordynator: generators for what JSON Schema cannot say.

- `nip` and `regon` (custom formats of the OpenAPI document): numbers whose last digit is a
  weighted check digit (docs: DOMAIN.md). Without generators nearly every generated NIP
  would be refused for its check digit, and no request would reach the rules behind it.
- `min_position`: a read with a position the read models have not reached waits 5 s and
  answers 503 by contract (the end-to-end tests cover that); the fuzzer reads at 0, which
  every read model has reached, so it exercises the reads themselves.
"""

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
def map_query(context, query):
    if query and "min_position" in query:
        query["min_position"] = 0
    return query
