"""Shamir secret sharing over GF(2^8), byte by byte, to split the root key among operators.

`split(secret, shares=5, threshold=3)` hands out five shares; any three of them give the secret
back through `combine`, and any two reveal nothing about it. Every byte of the secret is the
constant term of its own random polynomial of degree `threshold - 1` over GF(2^8) with the AES
reduction polynomial x^8 + x^4 + x^3 + x + 1 (the construction HashiCorp Vault uses); share `i`
holds each polynomial evaluated at x = i, for i in 1..shares (never 0, which is the secret).

Field arithmetic works on all bytes of a value at once: a value is held as one integer whose
bytes are independent lanes, and each step is a shift, mask or XOR over the whole integer. A
secret byte never indexes a table or decides a branch; only the public x-coordinates do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ramparts.core.errors import RampartsError
from ramparts.crypto.primitives import constant_time_equals, random_bytes

__all__ = [
    "MAX_SHARES",
    "MIN_THRESHOLD",
    "SHARE_PREFIX",
    "SHARE_VERSION",
    "SPLIT_ID_SIZE",
    "ShamirError",
    "Share",
    "combine",
    "split",
]

# The x-coordinates are the nonzero elements of GF(2^8).
MAX_SHARES = 255
# A threshold of 1 makes every share's value the secret itself: the polynomial is a constant.
MIN_THRESHOLD = 2
SPLIT_ID_SIZE = 8
SHARE_VERSION = 1
SHARE_PREFIX = f"ramparts-share-{SHARE_VERSION}-"

_PREFIX_FAMILY = "ramparts-share-"
_CHECKSUM_SIZE = 4
# version (1) || split id (8) || threshold (1) || index (1) || value (1 or more) || checksum (4)
_HEADER_SIZE = 1 + SPLIT_ID_SIZE + 1 + 1
_MIN_PAYLOAD_SIZE = _HEADER_SIZE + 1 + _CHECKSUM_SIZE
_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# x^8 + x^4 + x^3 + x + 1 without its x^8 term: what a carry out of bit 7 folds back in.
_REDUCTION = 0x1B
_COPY_AGAIN = "copy it again from where it was recorded, or use another share"


class ShamirError(RampartsError):
    """Splitting or combining was refused; the message says what to fix, never share values."""


def _lane_ones(width: int) -> int:
    """An integer with the byte 0x01 in each of `width` lanes."""
    return int.from_bytes(b"\x01" * width, "big")


def _scale(lanes: int, factor: int, ones: int) -> int:
    """Multiply every byte lane of `lanes` by the field element `factor` (public) in GF(2^8).

    Shift-and-add multiplication: for each bit of `factor`, add (XOR) the current multiple of
    `lanes`, then double every lane at once, reducing the lanes whose top bit carried out.
    `ones` (see `_lane_ones`) says how many lanes there are.
    """
    product = 0
    for bit in range(8):
        if (factor >> bit) & 1:
            product ^= lanes
        carries = (lanes >> 7) & ones
        lanes = ((lanes << 1) & (ones * 0xFE)) ^ (carries * _REDUCTION)
    return product


def _gf_mul(a: int, b: int) -> int:
    """The product of two elements of GF(2^8)."""
    return _scale(a, b, 1)


def _gf_inverse(a: int) -> int:
    """The multiplicative inverse of a nonzero element: a^254, since a^255 = 1."""
    if not 0 < a < 256:
        raise ZeroDivisionError(f"{a} has no inverse in GF(2^8)")
    result, power, exponent = 1, a, 254
    while exponent:
        if exponent & 1:
            result = _gf_mul(result, power)
        power = _gf_mul(power, power)
        exponent >>= 1
    return result


def _lagrange_weights(xs: Sequence[int], at: int) -> list[int]:
    """Weights w_j with f(at) = sum of w_j * f(xs[j]) for any f of degree below len(xs).

    In GF(2^8) subtraction is XOR, so each weight is the product of (at ^ x_m) / (x_j ^ x_m)
    over the other points m. The x-coordinates are public and distinct.
    """
    weights = []
    for j, x_j in enumerate(xs):
        numerator, denominator = 1, 1
        for m, x_m in enumerate(xs):
            if m != j:
                numerator = _gf_mul(numerator, at ^ x_m)
                denominator = _gf_mul(denominator, x_j ^ x_m)
        weights.append(_gf_mul(numerator, _gf_inverse(denominator)))
    return weights


def _interpolate(points: Sequence[tuple[int, int]], at: int, ones: int) -> int:
    """The lanes of the polynomial through `points` (x, lanes), evaluated at `at`."""
    weights = _lagrange_weights([x for x, _ in points], at)
    result = 0
    for weight, (_, lanes) in zip(weights, points, strict=True):
        result ^= _scale(lanes, weight, ones)
    return result


def _checksum(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:_CHECKSUM_SIZE]


def _damaged(reason: str) -> ShamirError:
    return ShamirError(f"this share is damaged ({reason}); {_COPY_AGAIN}")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Share:
    """One share of a split secret: which split, how many shares it needs, its x and its value.

    `value` is secret material: the repr shows the split id, threshold and index only, and
    equality compares values in constant time.
    """

    split_id: bytes
    threshold: int
    index: int
    value: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.split_id, bytes) or len(self.split_id) != SPLIT_ID_SIZE:
            raise ShamirError(f"a share's split id is {SPLIT_ID_SIZE} bytes")
        if not _is_int(self.threshold) or not MIN_THRESHOLD <= self.threshold <= MAX_SHARES:
            raise ShamirError(
                f"a share's threshold is between {MIN_THRESHOLD} and {MAX_SHARES}, "
                f"got {self.threshold!r}"
            )
        if not _is_int(self.index) or not 1 <= self.index <= MAX_SHARES:
            raise ShamirError(
                f"a share's index is between 1 and {MAX_SHARES}, got {self.index!r}"
            )
        if not isinstance(self.value, bytes) or not self.value:
            raise ShamirError("a share's value is a non-empty bytes object")

    def encode(self) -> str:
        """One line to hand an operator: `ramparts-share-1-` and upper-case unpadded base32.

        The base32 holds version, split id, threshold, index, value, and the first 4 bytes
        of the SHA-256 of all that, so a mistyped character is caught by `parse`.
        """
        body = (
            bytes([SHARE_VERSION])
            + self.split_id
            + bytes([self.threshold, self.index])
            + self.value
        )
        text = base64.b32encode(body + _checksum(body)).decode("ascii")
        return SHARE_PREFIX + text.rstrip("=")

    @classmethod
    def parse(cls, text: str) -> Share:
        """Read what `encode` wrote, ignoring case and whitespace (lines wrapped on paste).

        Refuses, never repairs: a wrong character, a missing or extra one, or a checksum
        that does not match raises ShamirError saying the share is damaged.
        """
        if not isinstance(text, str):
            raise ShamirError("a share is text starting with " + repr(SHARE_PREFIX))
        compact = "".join(text.split())
        head = compact[: len(SHARE_PREFIX)].lower()
        if head != SHARE_PREFIX:
            if compact.lower().startswith(_PREFIX_FAMILY):
                raise ShamirError(
                    f"this share is damaged or in an unsupported format: it should start with "
                    f"{SHARE_PREFIX!r}; {_COPY_AGAIN}"
                )
            raise ShamirError(
                f"this is not a ramparts key share: it should start with {SHARE_PREFIX!r}"
            )
        payload = compact[len(SHARE_PREFIX) :].upper()
        if not set(payload) <= _BASE32_ALPHABET:
            raise _damaged("it holds characters other than the letters A-Z and digits 2-7")
        padded = payload + "=" * (-len(payload) % 8)
        try:
            raw = base64.b32decode(padded)
        except (binascii.Error, ValueError):
            raise _damaged("characters are missing or extra") from None
        # Some lengths leave unused bits in the last character; only the canonical spelling of
        # the bytes is accepted, so every single-character change is refused.
        if base64.b32encode(raw).decode("ascii").rstrip("=") != payload:
            raise _damaged("characters are missing, extra or changed")
        if len(raw) < _MIN_PAYLOAD_SIZE:
            raise _damaged("it is too short")
        body, checksum = raw[:-_CHECKSUM_SIZE], raw[-_CHECKSUM_SIZE:]
        if not constant_time_equals(checksum, _checksum(body)):
            raise _damaged("its checksum does not match")
        if body[0] != SHARE_VERSION:
            raise ShamirError(
                f"this share has format version {body[0]}, this ramparts reads version "
                f"{SHARE_VERSION}; use the ramparts release that made it"
            )
        try:
            return cls(
                split_id=body[1 : 1 + SPLIT_ID_SIZE],
                threshold=body[1 + SPLIT_ID_SIZE],
                index=body[2 + SPLIT_ID_SIZE],
                value=body[_HEADER_SIZE:],
            )
        except ShamirError as exc:
            raise _damaged(str(exc)) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Share):
            return NotImplemented
        same_header = (self.split_id, self.threshold, self.index) == (
            other.split_id,
            other.threshold,
            other.index,
        )
        return constant_time_equals(self.value, other.value) and same_header

    def __hash__(self) -> int:
        return hash((self.split_id, self.threshold, self.index))

    def __repr__(self) -> str:
        return (
            f"Share(split_id={self.split_id.hex()!r}, threshold={self.threshold}, "
            f"index={self.index})"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def split(secret: bytes | bytearray, shares: int, threshold: int) -> list[Share]:
    """Split `secret` into `shares` shares, any `threshold` of which recover it.

    2 <= threshold <= shares <= 255. A threshold of 1 is refused: every share would then be
    a plain copy of the secret. The polynomials' other coefficients come from the operating
    system's CSPRNG, uniformly, which is what makes fewer than `threshold` shares useless.
    """
    if not isinstance(secret, bytes | bytearray):
        raise ShamirError(f"the secret to split must be bytes, got {type(secret).__name__}")
    if not secret:
        raise ShamirError("the secret to split is empty; give at least one byte")
    if not _is_int(shares) or not _is_int(threshold):
        raise ShamirError("the number of shares and the threshold must be whole numbers")
    if threshold < MIN_THRESHOLD:
        raise ShamirError(
            f"the threshold must be at least {MIN_THRESHOLD}, got {threshold}: with a "
            "threshold of 1 every share is a copy of the secret itself"
        )
    if shares > MAX_SHARES:
        raise ShamirError(
            f"at most {MAX_SHARES} shares can be made (one per nonzero byte value), "
            f"got {shares}"
        )
    if threshold > shares:
        raise ShamirError(
            f"the threshold ({threshold}) cannot exceed the number of shares ({shares}): "
            "the secret could never be recovered; raise the shares or lower the threshold"
        )
    width = len(secret)
    ones = _lane_ones(width)
    # coefficients[0] is the secret; the rest are uniformly random, zero bytes included.
    coefficients = [int.from_bytes(secret, "big")] + [
        int.from_bytes(random_bytes(width), "big") for _ in range(threshold - 1)
    ]
    split_id = random_bytes(SPLIT_ID_SIZE)
    result = []
    for index in range(1, shares + 1):
        value = 0
        for coefficient in reversed(coefficients):  # Horner's rule
            value = _scale(value, index, ones) ^ coefficient
        result.append(Share(split_id, threshold, index, value.to_bytes(width, "big")))
    return result


def combine(shares: Sequence[Share]) -> bytes:
    """The secret that `shares` were split from, given at least the threshold of them.

    Refuses shares of different splits, duplicates, fewer than the threshold, and values of
    different lengths. Beyond the threshold, every extra share must lie on the polynomial
    the others define, so one damaged or foreign share is refused rather than used.
    """
    try:
        given = list(shares)
    except TypeError:
        raise ShamirError("combine takes a list of shares") from None
    if not given:
        raise ShamirError("no shares given; give at least the threshold of one split")
    for share in given:
        if not isinstance(share, Share):
            raise ShamirError(
                f"combine takes Share objects (see Share.parse), got {type(share).__name__}"
            )
    first = given[0]
    for share in given[1:]:
        if share.split_id != first.split_id:
            raise ShamirError(
                "these shares come from different splits (their split ids differ): "
                f"{first.split_id.hex()} and {share.split_id.hex()}; give shares of one split"
            )
        if share.threshold != first.threshold or len(share.value) != len(first.value):
            raise ShamirError(
                f"share {share.index} does not match the others of split "
                f"{first.split_id.hex()}: it is damaged or was made by another split"
            )
    indexes = sorted(share.index for share in given)
    duplicates = sorted({i for i, j in itertools.pairwise(indexes) if i == j})
    if duplicates:
        listed = ", ".join(str(i) for i in duplicates)
        raise ShamirError(f"share {listed} given more than once; each share counts once")
    if len(given) < first.threshold:
        raise ShamirError(
            f"{len(given)} share(s) given, but split {first.split_id.hex()} needs "
            f"{first.threshold}; give {first.threshold - len(given)} more"
        )
    width = len(first.value)
    ones = _lane_ones(width)
    ordered = sorted(given, key=lambda share: share.index)
    points = [(share.index, int.from_bytes(share.value, "big")) for share in ordered]
    basis = points[: first.threshold]
    for share in ordered[first.threshold :]:
        expected = _interpolate(basis, share.index, ones).to_bytes(width, "big")
        if not constant_time_equals(expected, share.value):
            raise ShamirError(
                f"share {share.index} does not agree with the others of split "
                f"{first.split_id.hex()}: one of the shares is damaged; combine exactly "
                f"{first.threshold} shares, trying other ones, to find out which"
            )
    return _interpolate(basis, 0, ones).to_bytes(width, "big")
