"""The ActionTrail product's action table (API 2020-07-06)."""

from __future__ import annotations

from ramparts.services.actions import ActionTable, Product

__all__ = ["ACTIONTRAIL"]

ACTIONTRAIL = ActionTable(Product("Actiontrail", "2020-07-06", "actiontrail.aliyuncs.com",
                                  "actiontrail"))
