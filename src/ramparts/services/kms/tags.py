"""Tags of an account's KMS resources, keys (`key/<id>`) and secrets (`secret/<name>`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ramparts.services.kms.errors import InvalidParameter, LimitExceeded
from ramparts.store.base import Transaction

__all__ = ["MAX_TAGS", "ResourceTags"]

MAX_TAGS = 20  # [doc: CreateSecret Tags: up to 20 tags per secret]
# [doc: CreateSecret Tags]: letters, digits and / \ _ - . + = : @; keys not beginning with
# aliyun or acs:.
_TAG_KEY = re.compile(r"[A-Za-z0-9/\\_.+=:@-]{1,128}", re.ASCII)
_TAG_VALUE = re.compile(r"[A-Za-z0-9/\\_.+=:@-]{0,128}", re.ASCII)


class ResourceTags:
    """Tags of one account's KMS resources (`key/<id>`, `secret/<name>`) in kms_tags."""

    def __init__(self, tx: Transaction, account_id: str) -> None:
        self.tx, self.account_id = tx, account_id

    @staticmethod
    def check(tags: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        seen: set[str] = set()
        for key, value in tags:
            if _TAG_KEY.fullmatch(key) is None or key.lower().startswith(("aliyun", "acs:")):
                raise InvalidParameter('The specified parameter "Tags" is not valid: a tag key '
                                       "is 1 to 128 letters, digits and / \\ _ - . + = : @, not "
                                       "beginning with aliyun or acs:.")
            if _TAG_VALUE.fullmatch(value) is None:
                raise InvalidParameter('The specified parameter "Tags" is not valid: a tag '
                                       "value is up to 128 letters, digits and / \\ _ - . + = : "
                                       "@.")
            if key in seen:
                raise InvalidParameter('The specified parameter "Tags" is not valid: the tag '
                                       f"key {key} is given twice.")
            seen.add(key)
        return list(tags)

    def of(self, resource: str) -> list[tuple[str, str]]:
        rows = self.tx.query("SELECT tag_key, tag_value FROM kms_tags WHERE account_id = ? AND "
                             "resource = ? ORDER BY tag_key", (self.account_id, resource))
        return [(str(row["tag_key"]), str(row["tag_value"])) for row in rows]

    def add(self, resource: str, tags: Sequence[tuple[str, str]]) -> None:
        """Set each tag (a key already there takes the new value); at most MAX_TAGS."""
        checked = self.check(tags)
        merged = dict(self.of(resource)) | dict(checked)
        if len(merged) > MAX_TAGS:
            raise LimitExceeded(f"A resource has at most {MAX_TAGS} tags.")
        for key, value in checked:
            self.tx.execute("DELETE FROM kms_tags WHERE account_id = ? AND resource = ? AND "
                            "tag_key = ?", (self.account_id, resource, key))
            self.tx.execute("INSERT INTO kms_tags (account_id, resource, tag_key, tag_value) "
                            "VALUES (?, ?, ?, ?)", (self.account_id, resource, key, value))

    def remove(self, resource: str, keys: Iterable[str]) -> None:
        for key in keys:
            self.tx.execute("DELETE FROM kms_tags WHERE account_id = ? AND resource = ? AND "
                            "tag_key = ?", (self.account_id, resource, key))
