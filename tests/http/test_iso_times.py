"""The API writes a time as ``datetime`` does (rounded to the microsecond, half to even, the
milliseconds then cut), though ``iso`` works most of them out by arithmetic."""

from __future__ import annotations

import datetime

from hypothesis import example, given
from hypothesis import strategies as st
from status_tracker.ingress.http.views import iso

HALFWAY_FRACTIONS = [0.0, 0.5e-6, 1.5e-6, 0.0005, 0.0004995, 0.0009995, 0.9995, 0.9999995, 0.999]


def by_datetime(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


timestamps = st.one_of(
    st.floats(min_value=-1e10, max_value=1e11, allow_nan=False),
    st.builds(
        lambda second, fraction: second + fraction,
        st.integers(0, 4_200_000_000),
        st.sampled_from(HALFWAY_FRACTIONS),
    ),
    st.integers(0, 4_200_000_000_000).map(lambda milliseconds: milliseconds / 1000),
    st.integers(0, 4_200_000_000_000_000).map(lambda microseconds: microseconds / 1e6),
)


@given(timestamps)
@example(0.0)
@example(4_102_444_799.9999995)
@example(1_700_000_000.0000005)
@example(951_782_400.0)  # 2000-02-29
def test_every_time_is_written_as_datetime_writes_it(timestamp: float) -> None:
    assert iso(timestamp) == by_datetime(timestamp)


def test_no_time_is_null() -> None:
    assert iso(None) is None
