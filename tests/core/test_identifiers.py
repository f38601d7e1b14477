"""Resource names split into their parts, and refuse what is not one."""

from __future__ import annotations

import pytest

from ramparts.core import parse_arn


def test_parses_five_parts_keeping_colons_in_the_relative_id() -> None:
    arn = parse_arn("acs:oss:cn-hangzhou:123:bucket/a:b")
    assert arn is not None
    assert (arn.service, arn.region, arn.account, arn.relative_id) == (
        "oss", "cn-hangzhou", "123", "bucket/a:b")
    assert str(arn) == "acs:oss:cn-hangzhou:123:bucket/a:b"


def test_star_region_reads_as_the_global_region() -> None:
    arn = parse_arn("acs:ram:*:123:user/alice")
    assert arn is not None
    assert arn.normalized_region == ""


@pytest.mark.parametrize("text", ["*", "arn:aws:s3:::b", "acs::r:a:x", "acs:ecs:r:a", ""])
def test_rejects_what_is_not_an_acs_name(text: str) -> None:
    assert parse_arn(text) is None
