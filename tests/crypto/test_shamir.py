"""Shamir secret sharing of the root key: field arithmetic, split/combine, share encoding."""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.core.errors import RampartsError
from ramparts.crypto.primitives import random_bytes
from ramparts.crypto.shamir import (
    MAX_SHARES,
    SHARE_PREFIX,
    SPLIT_ID_SIZE,
    ShamirError,
    Share,
    _gf_inverse,
    _gf_mul,
    _lane_ones,
    _scale,
    combine,
    split,
)

ROOT_KEY = bytes(range(100, 132))
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def reference_mul(a: int, b: int) -> int:
    """Schoolbook GF(2^8) multiplication, written independently of the module's lane code."""
    product = 0
    for _ in range(8):
        if b & 1:
            product ^= a
        high = a & 0x80
        a = (a << 1) & 0xFF
        if high:
            a ^= 0x1B
        b >>= 1
    return product


def encode_raw(body: bytes) -> str:
    """Encode a share body with a valid checksum, to build shares `split` would never make."""
    text = base64.b32encode(body + hashlib.sha256(body).digest()[:4]).decode("ascii")
    return SHARE_PREFIX + text.rstrip("=")


def replacement(char: str) -> str:
    """Another base32 character than `char`."""
    return BASE32[(BASE32.index(char.upper()) + 1) % len(BASE32)]


# --- field arithmetic -------------------------------------------------------------------------


def test_multiplication_matches_the_fips_197_examples() -> None:
    # FIPS-197 section 4.2: {57} x {83} = {c1} and {57} x {13} = {fe}.
    assert _gf_mul(0x57, 0x83) == 0xC1
    assert _gf_mul(0x57, 0x13) == 0xFE


def test_multiplication_matches_a_schoolbook_reference_for_every_pair() -> None:
    mismatches = [
        (a, b) for a in range(256) for b in range(256) if _gf_mul(a, b) != reference_mul(a, b)
    ]
    assert mismatches == []


def test_every_nonzero_element_times_its_inverse_is_one() -> None:
    for x in range(1, 256):
        assert _gf_mul(x, _gf_inverse(x)) == 1, x


def test_inverses_are_a_permutation_of_the_nonzero_elements() -> None:
    assert sorted(_gf_inverse(x) for x in range(1, 256)) == list(range(1, 256))


def test_zero_has_no_inverse() -> None:
    with pytest.raises(ZeroDivisionError):
        _gf_inverse(0)


def test_multiplication_is_commutative_associative_and_distributes_over_xor() -> None:
    rng = random.Random(2718)
    for _ in range(2000):
        a, b, c = rng.randrange(256), rng.randrange(256), rng.randrange(256)
        assert _gf_mul(a, b) == _gf_mul(b, a)
        assert _gf_mul(a, _gf_mul(b, c)) == _gf_mul(_gf_mul(a, b), c)
        assert _gf_mul(a, b ^ c) == _gf_mul(a, b) ^ _gf_mul(a, c)


def test_one_is_the_identity_and_zero_absorbs() -> None:
    for x in range(256):
        assert _gf_mul(x, 1) == x
        assert _gf_mul(x, 0) == 0


def test_scaling_many_lanes_multiplies_each_byte_on_its_own() -> None:
    rng = random.Random(31)
    data = bytes(rng.randrange(256) for _ in range(40)) + b"\x80\xff\x00\x01"
    lanes = int.from_bytes(data, "big")
    for factor in (0, 1, 2, 3, 0x53, 0x80, 0xFF):
        scaled = _scale(lanes, factor, _lane_ones(len(data))).to_bytes(len(data), "big")
        assert scaled == bytes(reference_mul(byte, factor) for byte in data), factor


# --- split and combine ------------------------------------------------------------------------


def test_every_three_of_five_shares_give_the_root_key_back() -> None:
    shares = split(ROOT_KEY, 5, 3)
    subsets = list(itertools.combinations(shares, 3))
    assert len(subsets) == 10
    for subset in subsets:
        assert combine(subset) == ROOT_KEY, [share.index for share in subset]


def test_the_order_of_shares_does_not_matter() -> None:
    shares = split(ROOT_KEY, 5, 3)
    for ordering in itertools.permutations(shares[:3]):
        assert combine(ordering) == ROOT_KEY


def test_more_shares_than_the_threshold_also_combine() -> None:
    shares = split(ROOT_KEY, 5, 3)
    for size in (4, 5):
        for subset in itertools.combinations(shares, size):
            assert combine(subset) == ROOT_KEY


def test_two_of_two() -> None:
    shares = split(ROOT_KEY, 2, 2)
    assert [share.index for share in shares] == [1, 2]
    assert combine(shares) == ROOT_KEY


def test_two_of_255_shares_any_pair_combines() -> None:
    shares = split(ROOT_KEY, MAX_SHARES, 2)
    assert [share.index for share in shares] == list(range(1, 256))
    rng = random.Random(7)
    pairs = [(0, 1), (0, 254), (253, 254), (127, 128)]
    pairs += [tuple(rng.sample(range(255), 2)) for _ in range(20)]  # type: ignore[misc]
    for first, second in pairs:
        assert combine([shares[first], shares[second]]) == ROOT_KEY, (first, second)


def test_255_of_255_shares_combine() -> None:
    shares = split(ROOT_KEY, MAX_SHARES, MAX_SHARES)
    assert combine(shares) == ROOT_KEY
    with pytest.raises(ShamirError, match="needs 255"):
        combine(shares[1:])


def test_a_one_byte_and_a_long_secret_both_round_trip() -> None:
    for secret in (b"\x00", b"\xff", bytes(1000), random_bytes(1000)):
        shares = split(secret, 4, 3)
        assert combine(shares[1:]) == secret


def test_shares_of_one_split_carry_its_id_threshold_and_their_index() -> None:
    shares = split(ROOT_KEY, 5, 3)
    assert len({share.split_id for share in shares}) == 1
    assert len(shares[0].split_id) == SPLIT_ID_SIZE
    assert [(share.threshold, share.index) for share in shares] == [(3, i) for i in range(1, 6)]
    assert all(len(share.value) == len(ROOT_KEY) for share in shares)


def test_no_share_value_is_the_secret_and_two_splits_differ() -> None:
    first, second = split(ROOT_KEY, 5, 3), split(ROOT_KEY, 5, 3)
    assert first[0].split_id != second[0].split_id
    assert [share.value for share in first] != [share.value for share in second]
    assert all(share.value != ROOT_KEY for share in first + second)


def test_split_accepts_a_bytearray() -> None:
    assert combine(split(bytearray(ROOT_KEY), 3, 2)[:2]) == ROOT_KEY


@given(
    secret=st.binary(min_size=1, max_size=48),
    shares=st.integers(min_value=2, max_value=10),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_any_threshold_subset_recovers_and_one_fewer_is_refused(
    secret: bytes, shares: int, data: st.DataObject
) -> None:
    threshold = data.draw(st.integers(min_value=2, max_value=shares), label="threshold")
    made = split(secret, shares, threshold)
    size = data.draw(st.integers(min_value=threshold, max_value=shares), label="size")
    chosen = data.draw(st.permutations(made), label="order")[:size]
    assert combine(chosen) == secret
    with pytest.raises(ShamirError, match="more"):
        combine(chosen[: threshold - 1])


# --- combine refuses ----------------------------------------------------------------------------


def test_fewer_shares_than_the_threshold_are_refused() -> None:
    shares = split(ROOT_KEY, 5, 3)
    for subset in itertools.combinations(shares, 2):
        with pytest.raises(ShamirError, match=r"2 share\(s\) given, but .* needs 3; give 1 more"):
            combine(subset)
    with pytest.raises(ShamirError, match="needs 3"):
        combine(shares[:1])


def test_no_shares_are_refused() -> None:
    with pytest.raises(ShamirError, match="no shares given"):
        combine([])


def test_a_share_given_twice_is_refused() -> None:
    shares = split(ROOT_KEY, 5, 3)
    with pytest.raises(ShamirError, match="share 1 given more than once"):
        combine([shares[0], shares[0], shares[1]])
    with pytest.raises(ShamirError, match="more than once"):
        combine([shares[0], shares[1], Share.parse(shares[1].encode())])


def test_two_shares_with_one_index_but_different_values_are_refused() -> None:
    shares = split(ROOT_KEY, 5, 3)
    forged = Share(shares[1].split_id, 3, 2, bytes(len(ROOT_KEY)))
    with pytest.raises(ShamirError, match="share 2 given more than once"):
        combine([shares[0], shares[1], forged, shares[2]])


def test_shares_of_two_splits_are_refused() -> None:
    first, second = split(ROOT_KEY, 5, 3), split(ROOT_KEY, 5, 3)
    with pytest.raises(ShamirError, match="different splits"):
        combine([first[0], first[1], second[2]])
    with pytest.raises(ShamirError, match="different splits"):
        combine([first[0], second[1], first[2], first[3]])


def test_shares_disagreeing_on_threshold_or_length_are_refused() -> None:
    shares = split(ROOT_KEY, 5, 3)
    other_threshold = Share(shares[2].split_id, 2, 3, shares[2].value)
    with pytest.raises(ShamirError, match="share 3 does not match"):
        combine([shares[0], shares[1], other_threshold])
    shorter = Share(shares[2].split_id, 3, 3, shares[2].value[:-1])
    with pytest.raises(ShamirError, match="share 3 does not match"):
        combine([shares[0], shares[1], shorter])


def test_an_extra_share_off_the_polynomial_is_refused() -> None:
    shares = split(ROOT_KEY, 5, 3)
    altered = bytes([shares[4].value[0] ^ 1]) + shares[4].value[1:]
    damaged = Share(shares[4].split_id, 3, 5, altered)
    with pytest.raises(ShamirError, match="share 5 does not agree"):
        combine([*shares[:4], damaged])
    assert combine([*shares[:3], shares[4]]) == ROOT_KEY


def test_things_that_are_not_shares_are_refused() -> None:
    shares = split(ROOT_KEY, 3, 2)
    with pytest.raises(ShamirError, match="Share objects"):
        combine([shares[0], shares[1].encode()])  # type: ignore[list-item]
    with pytest.raises(ShamirError, match="Share objects"):
        combine(shares[0].encode())  # type: ignore[arg-type]
    with pytest.raises(ShamirError, match="a list of shares"):
        combine(shares[0])  # type: ignore[arg-type]


def test_shamir_errors_are_ramparts_errors() -> None:
    assert issubclass(ShamirError, RampartsError)


# --- split refuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "shares", "threshold", "message"),
    [
        (ROOT_KEY, 5, 1, "at least 2, got 1: with a threshold of 1 every share is a copy"),
        (ROOT_KEY, 5, 0, "at least 2, got 0"),
        (ROOT_KEY, 5, -3, "at least 2, got -3"),
        (ROOT_KEY, 3, 4, r"threshold \(4\) cannot exceed the number of shares \(3\)"),
        (ROOT_KEY, 1, 2, r"threshold \(2\) cannot exceed the number of shares \(1\)"),
        (ROOT_KEY, 256, 3, "at most 255 shares can be made"),
        (ROOT_KEY, 256, 256, "at most 255 shares"),
        (b"", 5, 3, "the secret to split is empty"),
        (ROOT_KEY, 5, True, "whole numbers"),
        (ROOT_KEY, 5.0, 3, "whole numbers"),
        ("not bytes", 5, 3, "must be bytes, got str"),
    ],
)
def test_bad_split_arguments_are_refused_saying_what_to_fix(
    secret: object, shares: object, threshold: object, message: str
) -> None:
    with pytest.raises(ShamirError, match=message):
        split(secret, shares, threshold)  # type: ignore[arg-type]


def test_bad_share_fields_are_refused() -> None:
    good = split(ROOT_KEY, 3, 2)[0]
    with pytest.raises(ShamirError, match="split id"):
        Share(b"short", 2, 1, good.value)
    with pytest.raises(ShamirError, match="threshold"):
        Share(good.split_id, 1, 1, good.value)
    with pytest.raises(ShamirError, match="index"):
        Share(good.split_id, 2, 0, good.value)
    with pytest.raises(ShamirError, match="index"):
        Share(good.split_id, 2, 256, good.value)
    with pytest.raises(ShamirError, match="value"):
        Share(good.split_id, 2, 1, b"")


# --- secrecy ------------------------------------------------------------------------------------


def test_one_share_of_a_two_threshold_split_says_nothing_about_the_secret() -> None:
    # For a 1-byte secret and threshold 2, share 1's value is secret XOR a uniform coefficient:
    # uniform whatever the secret. Count it over many splits of 0x00 and of 0xFF.
    rounds = 256 * 32
    histograms = {}
    for secret in (b"\x00", b"\xff"):
        histograms[secret] = Counter(split(secret, 2, 2)[0].value[0] for _ in range(rounds))
    for secret, histogram in histograms.items():
        assert len(histogram) == 256, f"only {len(histogram)} values seen for {secret!r}"
        # Expected 32 per value; a count outside 5..75 has odds far below one in a million.
        assert min(histogram.values()) >= 5, (secret, min(histogram.values()))
        assert max(histogram.values()) <= 75, (secret, max(histogram.values()))
    low, high = histograms[b"\x00"], histograms[b"\xff"]
    distance = sum(abs(low[v] - high[v]) for v in range(256)) / (2 * rounds)
    # Two samples of one uniform distribution sit about 0.1 apart here; a leak nears 1.
    assert distance < 0.2, distance


# --- encoding -----------------------------------------------------------------------------------


def test_encode_then_parse_gives_the_same_share() -> None:
    for share in split(ROOT_KEY, 5, 3):
        assert Share.parse(share.encode()) == share


def test_parsed_shares_combine_to_the_secret() -> None:
    lines = [share.encode() for share in split(ROOT_KEY, 5, 3)]
    assert combine([Share.parse(line) for line in lines[2:]]) == ROOT_KEY


def test_the_encoding_is_one_upper_case_base32_line_behind_the_prefix() -> None:
    line = split(ROOT_KEY, 5, 3)[0].encode()
    assert line.startswith("ramparts-share-1-")
    payload = line[len(SHARE_PREFIX) :]
    assert set(payload) <= set(BASE32)
    # version 1 + split id 8 + threshold 1 + index 1 + value 32 + checksum 4 = 47 bytes.
    assert len(payload) == -(-47 * 8 // 5)


def test_lower_case_input_is_accepted() -> None:
    share = split(ROOT_KEY, 5, 3)[2]
    assert Share.parse(share.encode().lower()) == share
    assert Share.parse(share.encode().upper()) == share


def test_surrounding_whitespace_and_line_wraps_are_ignored() -> None:
    share = split(ROOT_KEY, 5, 3)[1]
    line = share.encode()
    assert Share.parse(f"  \t{line}\n") == share
    assert Share.parse(f"{line[:40]}\n   {line[40:]}\r\n") == share


def test_every_single_changed_character_is_refused_as_damaged() -> None:
    share = split(ROOT_KEY, 5, 3)[3]
    line = share.encode()
    for position in range(len(SHARE_PREFIX), len(line)):
        changed = line[:position] + replacement(line[position]) + line[position + 1 :]
        with pytest.raises(ShamirError, match="this share is damaged"):
            Share.parse(changed)


def test_every_changed_prefix_character_is_refused() -> None:
    line = split(ROOT_KEY, 5, 3)[0].encode()
    for position in range(len(SHARE_PREFIX)):
        changed = line[:position] + "x" + line[position + 1 :]
        with pytest.raises(ShamirError, match=r"should start with 'ramparts-share-1-'"):
            Share.parse(changed)


def test_characters_outside_base32_are_refused_as_damaged() -> None:
    line = split(ROOT_KEY, 5, 3)[0].encode()
    position = len(SHARE_PREFIX) + 10
    for char in "0189=!-_":
        with pytest.raises(ShamirError, match=r"damaged .*letters A-Z and digits 2-7"):
            Share.parse(line[:position] + char + line[position + 1 :])


def test_missing_or_extra_characters_are_refused_as_damaged() -> None:
    line = split(ROOT_KEY, 5, 3)[0].encode()
    for position in range(len(SHARE_PREFIX), len(line), 7):
        with pytest.raises(ShamirError, match="this share is damaged"):
            Share.parse(line[:position] + line[position + 1 :])
        with pytest.raises(ShamirError, match="this share is damaged"):
            Share.parse(line[:position] + "A" + line[position:])
    with pytest.raises(ShamirError, match="this share is damaged"):
        Share.parse(SHARE_PREFIX)
    with pytest.raises(ShamirError, match="this share is damaged"):
        Share.parse(line[:-10])


def test_two_swapped_characters_are_refused() -> None:
    line = split(ROOT_KEY, 5, 3)[0].encode()
    for position in range(len(SHARE_PREFIX), len(line) - 1):
        if line[position] == line[position + 1]:
            continue
        swapped = line[:position] + line[position + 1] + line[position] + line[position + 2 :]
        with pytest.raises(ShamirError, match="this share is damaged"):
            Share.parse(swapped)


def test_text_that_is_not_a_share_is_refused() -> None:
    with pytest.raises(ShamirError, match="not a ramparts key share"):
        Share.parse(base64.b64encode(ROOT_KEY).decode("ascii"))
    with pytest.raises(ShamirError, match="not a ramparts key share"):
        Share.parse("")
    with pytest.raises(ShamirError, match="a share is text"):
        Share.parse(b"ramparts-share-1-AAAA")  # type: ignore[arg-type]


def test_another_format_version_is_refused_with_a_clear_message() -> None:
    share = split(ROOT_KEY, 5, 3)[0]
    body = bytes([2]) + share.split_id + bytes([3, 1]) + share.value
    with pytest.raises(ShamirError, match="format version 2, this ramparts reads version 1"):
        Share.parse(encode_raw(body))
    line = share.encode().replace("ramparts-share-1-", "ramparts-share-2-")
    with pytest.raises(ShamirError, match="unsupported format"):
        Share.parse(line)


def test_a_checksummed_share_with_impossible_fields_is_refused_as_damaged() -> None:
    share = split(ROOT_KEY, 5, 3)[0]
    for threshold, index in ((1, 1), (3, 0), (0, 2)):
        body = bytes([1]) + share.split_id + bytes([threshold, index]) + share.value
        with pytest.raises(ShamirError, match="this share is damaged"):
            Share.parse(encode_raw(body))
    with pytest.raises(ShamirError, match="too short"):
        Share.parse(encode_raw(bytes([1]) + share.split_id + bytes([3, 1])))


# --- secret material stays out of sight ---------------------------------------------------------


def test_repr_shows_split_id_threshold_and_index_but_not_the_value() -> None:
    share = split(ROOT_KEY, 5, 3)[0]
    shown = [repr(share), str(share), f"{share}", repr([share])]
    line = share.encode()
    payload = line[len(SHARE_PREFIX) :]
    hidden = [
        share.value.hex(),
        repr(share.value),
        base64.b64encode(share.value).decode("ascii"),
        base64.b32encode(share.value).decode("ascii").rstrip("="),
        payload,
        payload[20:40],
    ]
    for text in shown:
        assert share.split_id.hex() in text
        assert "threshold=3" in text
        assert "index=1" in text
        for secret in hidden:
            assert secret not in text


def test_errors_never_carry_share_values() -> None:
    shares = split(ROOT_KEY, 5, 3)
    line = shares[0].encode()
    damaged = line[:-1] + replacement(line[-1])
    messages = []
    for attempt in (
        lambda: Share.parse(damaged),
        lambda: combine(shares[:2]),
        lambda: combine([shares[0], shares[0], shares[1]]),
        lambda: combine([*shares[:3], Share(shares[3].split_id, 3, 4, bytes(32))]),
    ):
        with pytest.raises(ShamirError) as caught:
            attempt()
        messages.append(str(caught.value))
    for message in messages:
        for share in shares:
            assert share.value.hex() not in message
            assert share.encode()[len(SHARE_PREFIX) :][:16] not in message
        assert ROOT_KEY.hex() not in message


def test_equality_compares_every_field() -> None:
    share = split(ROOT_KEY, 5, 3)[0]
    same = Share(share.split_id, share.threshold, share.index, bytes(share.value))
    assert share == same
    assert hash(share) == hash(same)
    altered = bytes([share.value[0] ^ 0x40]) + share.value[1:]
    assert share != Share(share.split_id, 3, 1, altered)
    assert share != Share(share.split_id, 3, 2, share.value)
    assert share != Share(share.split_id, 4, 1, share.value)
    assert share != Share(bytes(SPLIT_ID_SIZE), 3, 1, share.value)
