"""The HTTP settings read from ``ST_*`` variables, and the errors for values that cannot work."""

from __future__ import annotations

import ipaddress

import pytest

from status_tracker.config import Config, ConfigError


def limits(config: Config) -> tuple[float, float, float, int]:
    """Session days, body timeout, keep-alive and the cap on requests in progress."""
    return (
        config.session_days,
        config.body_timeout_s,
        config.keep_alive_s,
        config.max_concurrent_requests,
    )


def test_the_defaults_trust_only_loopback_and_allow_no_extra_origin() -> None:
    config = Config.from_env({})
    assert config.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert config.allowed_origins == ()
    assert limits(config) == (30.0, 10.0, 75.0, 256)


def test_the_variables_are_read_and_normalised() -> None:
    config = Config.from_env(
        {
            "ST_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,fd00::/8",
            "ST_ALLOWED_ORIGINS": "HTTPS://Board.Example:443,http://[::1]:8420/",
            "ST_SESSION_DAYS": "0.5",
            "ST_BODY_TIMEOUT_S": "2.5",
            "ST_KEEP_ALIVE_S": "90",
            "ST_MAX_CONCURRENT_REQUESTS": "64",
        }
    )
    assert [str(n) for n in config.trusted_proxies] == ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]
    assert config.allowed_origins == ("https://board.example", "http://[::1]:8420")
    assert limits(config) == (0.5, 2.5, 90.0, 64)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ST_TRUSTED_PROXIES", "10.0.0.0/8,proxy.lan", "'proxy.lan' is not an IP address"),
        ("ST_ALLOWED_ORIGINS", "https://board.example/app", "is not an origin"),
        ("ST_ALLOWED_ORIGINS", "board.example", "is not an origin"),
        ("ST_SESSION_DAYS", "0", "positive number of days"),
        ("ST_SESSION_DAYS", "forever", "number of days"),
        ("ST_BODY_TIMEOUT_S", "-1", "positive number of seconds"),
        ("ST_KEEP_ALIVE_S", "0", "positive number of seconds"),
        ("ST_MAX_CONCURRENT_REQUESTS", "²", "positive integer"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=variable) as refused:
        Config.from_env({variable: value})
    assert message in str(refused.value)
