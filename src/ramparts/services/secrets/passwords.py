"""GetRandomPassword's passwords: drawn with `secrets` from the character classes asked for."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence

from ramparts.services.kms.errors import InvalidParameter

__all__ = [
    "DEFAULT_PASSWORD_LENGTH", "PASSWORD_LENGTH", "PUNCTUATION", "random_password",
]

PASSWORD_LENGTH = (8, 128)  # [doc: GetRandomPassword PasswordLength]
DEFAULT_PASSWORD_LENGTH = 32
# [doc: GetRandomPassword ExcludeCharacters]: the characters a password is drawn from are the
# ASCII letters, digits and punctuation.
PUNCTUATION = string.punctuation


def random_password(length: int = DEFAULT_PASSWORD_LENGTH, *, exclude_characters: str = "",
                    exclude_lowercase: bool = False, exclude_uppercase: bool = False,
                    exclude_numbers: bool = False, exclude_punctuation: bool = False,
                    require_each_included_type: bool = True) -> str:
    """A password of `length` characters from the classes not excluded, less
    `exclude_characters`; with `require_each_included_type`, at least one of each class that
    keeps a character."""
    low, high = PASSWORD_LENGTH
    if not low <= length <= high:
        raise InvalidParameter('The specified parameter "PasswordLength" is not valid: it must '
                               f"be from {low} to {high}.")
    excluded = set(exclude_characters)
    classes: Sequence[tuple[bool, str]] = (
        (exclude_lowercase, string.ascii_lowercase), (exclude_uppercase, string.ascii_uppercase),
        (exclude_numbers, string.digits), (exclude_punctuation, PUNCTUATION))
    pools = ["".join(c for c in chars if c not in excluded)
             for skipped, chars in classes if not skipped]
    pools = [pool for pool in pools if pool]
    if not pools:
        raise InvalidParameter("The specified parameters exclude every character: keep at "
                               "least one character class with characters in it.")
    if require_each_included_type and length < len(pools):
        raise InvalidParameter('The specified parameter "PasswordLength" is not valid: it is '
                               "shorter than the number of character classes required.")
    alphabet = "".join(pools)
    chosen = [secrets.choice(pool) for pool in pools] if require_each_included_type else []
    chosen += [secrets.choice(alphabet) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)
