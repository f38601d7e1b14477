"""The KMS product's action table (API 2016-01-20), shared with Secrets Manager's actions."""

from __future__ import annotations

from ramparts.services.actions import ActionTable, Product

__all__ = ["KMS"]

KMS = ActionTable(Product("Kms", "2016-01-20", "kms.aliyuncs.com", "kms"))
