"""RFC 6238 TOTP: the RFC's vectors, windows, replay refusal and device binding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ramparts.crypto import totp

# RFC 6238 appendix B: the SHA1 seed is the ASCII string "12345678901234567890".
RFC_SEED = b"12345678901234567890"
RFC_SHA1_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
# RFC 4226 appendix D: HOTP values for counters 0..9 with the same seed (6 digits).
RFC_HOTP_VECTORS = [
    "755224", "287082", "359152", "969429", "338314",
    "254676", "287922", "162583", "399871", "520489",
]
NOW = datetime(2026, 3, 1, 12, 0, 15, tzinfo=UTC)
# A fixed other seed, so "wrong seed" tests cannot collide by chance.
OTHER_SEED = bytes(20)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("seconds", "expected"), RFC_SHA1_VECTORS)
def test_rfc6238_sha1_vectors_eight_digits(seconds: int, expected: str) -> None:
    assert totp.totp(RFC_SEED, at(seconds), digits=8) == expected


@pytest.mark.parametrize(("seconds", "expected"), RFC_SHA1_VECTORS)
def test_rfc6238_sha1_vectors_six_digits(seconds: int, expected: str) -> None:
    # Six digits are the same value modulo 10**6: the last six of the RFC's eight.
    assert totp.totp(RFC_SEED, at(seconds)) == expected[-6:]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC_HOTP_VECTORS)))
def test_rfc4226_counters_through_time_steps(counter: int, expected: str) -> None:
    assert totp.totp(RFC_SEED, at(counter * 30)) == expected
    assert totp.totp(RFC_SEED, at(counter * 30 + 29)) == expected


@pytest.mark.parametrize(("seconds", "expected"), RFC_SHA1_VECTORS)
def test_rfc_vectors_verify(seconds: int, expected: str) -> None:
    assert totp.verify(RFC_SEED, expected, at(seconds), digits=8) == seconds // 30


def test_any_timezone_gives_the_same_code() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert totp.totp(RFC_SEED, NOW.astimezone(shanghai)) == totp.totp(RFC_SEED, NOW)


def test_naive_and_pre_epoch_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        totp.totp(RFC_SEED, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="epoch"):
        totp.totp(RFC_SEED, datetime(1969, 12, 31, tzinfo=UTC))


@pytest.mark.parametrize("digits", [5, 11])
def test_digit_count_is_bounded(digits: int) -> None:
    with pytest.raises(ValueError, match="6 to 10 digits"):
        totp.totp(RFC_SEED, NOW, digits=digits)


def test_new_seed_and_base32() -> None:
    seed = totp.new_seed()
    assert len(seed) == 20
    assert seed != totp.new_seed()
    assert totp.seed_base32(RFC_SEED) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert len(totp.seed_base32(seed)) == 32


def test_otpauth_uri() -> None:
    uri = totp.otpauth_uri(RFC_SEED, "alice@1234567890.onaliyun.com", "Alibaba Cloud")
    assert uri == (
        "otpauth://totp/Alibaba%20Cloud:alice%401234567890.onaliyun.com"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Alibaba%20Cloud"
        "&algorithm=SHA1&digits=6&period=30"
    )


@pytest.mark.parametrize(("account", "issuer"), [("a:b", "x"), ("a", "x:y"), ("", "x"), ("a", "")])
def test_otpauth_uri_refuses_ambiguous_labels(account: str, issuer: str) -> None:
    with pytest.raises(ValueError, match="issuer and account"):
        totp.otpauth_uri(RFC_SEED, account, issuer)


def test_verify_returns_the_matched_step() -> None:
    step = totp.time_step(NOW)
    assert totp.verify(RFC_SEED, totp.totp(RFC_SEED, NOW), NOW) == step


def test_window_accepts_one_step_either_side() -> None:
    step = totp.time_step(NOW)
    previous = totp.totp(RFC_SEED, NOW - timedelta(seconds=30))
    following = totp.totp(RFC_SEED, NOW + timedelta(seconds=30))
    assert totp.verify(RFC_SEED, previous, NOW) == step - 1
    assert totp.verify(RFC_SEED, following, NOW) == step + 1
    assert totp.verify(RFC_SEED, previous, NOW, window=0) is None
    assert totp.verify(RFC_SEED, following, NOW, window=0) is None


def test_codes_outside_the_window_are_refused() -> None:
    stale = totp.totp(RFC_SEED, NOW - timedelta(seconds=60))
    early = totp.totp(RFC_SEED, NOW + timedelta(seconds=60))
    assert totp.verify(RFC_SEED, stale, NOW) is None
    assert totp.verify(RFC_SEED, early, NOW) is None
    assert totp.verify(RFC_SEED, stale, NOW, window=2) == totp.time_step(NOW) - 2


def test_window_is_bounded() -> None:
    code = totp.totp(RFC_SEED, NOW)
    with pytest.raises(ValueError, match="window"):
        totp.verify(RFC_SEED, code, NOW, window=-1)
    with pytest.raises(ValueError, match="window"):
        totp.verify(RFC_SEED, code, NOW, window=11)


def test_a_used_step_cannot_be_reused() -> None:
    code = totp.totp(RFC_SEED, NOW)
    used = totp.verify(RFC_SEED, code, NOW)
    assert used is not None
    # The same code again, even a few seconds later inside the same step or the window.
    assert totp.verify(RFC_SEED, code, NOW, last_used_step=used) is None
    assert totp.verify(RFC_SEED, code, NOW + timedelta(seconds=30), last_used_step=used) is None
    # An older code than the one last used is refused too: steps only move forward.
    older = totp.totp(RFC_SEED, NOW - timedelta(seconds=30))
    assert totp.verify(RFC_SEED, older, NOW, last_used_step=used) is None
    # The next step's code is fine.
    later = NOW + timedelta(seconds=30)
    assert totp.verify(RFC_SEED, totp.totp(RFC_SEED, later), later, last_used_step=used) == used + 1


def test_wrong_seed_is_refused() -> None:
    assert totp.verify(OTHER_SEED, totp.totp(RFC_SEED, NOW), NOW, window=0) is None


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "12 345", "+12345", "\uff11" * 6, "١٢٣٤٥٦"]
)
def test_malformed_codes_are_refused(code: str) -> None:
    assert totp.verify(RFC_SEED, code, NOW) is None


def test_verify_consecutive_binds_a_device() -> None:
    step = totp.time_step(NOW)
    code1 = totp.totp(RFC_SEED, NOW - timedelta(seconds=30))
    code2 = totp.totp(RFC_SEED, NOW)
    assert totp.verify_consecutive(RFC_SEED, code1, code2, NOW) == step


def test_verify_consecutive_tolerates_a_late_submit_within_the_window() -> None:
    code1 = totp.totp(RFC_SEED, NOW - timedelta(seconds=30))
    code2 = totp.totp(RFC_SEED, NOW)
    later = NOW + timedelta(seconds=30)
    assert totp.verify_consecutive(RFC_SEED, code1, code2, later) == totp.time_step(NOW)
    much_later = NOW + timedelta(seconds=60)
    assert totp.verify_consecutive(RFC_SEED, code1, code2, much_later) is None


def test_verify_consecutive_refuses_other_pairs() -> None:
    previous = totp.totp(RFC_SEED, NOW - timedelta(seconds=30))
    current = totp.totp(RFC_SEED, NOW)
    two_back = totp.totp(RFC_SEED, NOW - timedelta(seconds=60))
    assert totp.verify_consecutive(RFC_SEED, current, previous, NOW) is None  # reversed
    assert totp.verify_consecutive(RFC_SEED, current, current, NOW) is None  # same code twice
    assert totp.verify_consecutive(RFC_SEED, two_back, current, NOW) is None  # not consecutive
    assert totp.verify_consecutive(RFC_SEED, previous, "12345", NOW) is None
    assert totp.verify_consecutive(OTHER_SEED, previous, current, NOW) is None
