"""Fetch a secret with aliyun-secret-manager-client, as an application does (run by the
interpreter of .venv-legacy-client, which holds that client and its pinned libraries).

Arguments: endpoint (http://host:port), secret name; credentials in ALIBABA_CLOUD_ACCESS_KEY_ID
and ALIBABA_CLOUD_ACCESS_KEY_SECRET. Prints one JSON object per line: the value and version read
first, then again after a forced refresh when stdin says "refresh".
"""

import itertools
import json
import os
import sys

from alibaba_cloud_secretsmanager_client.model.region_info import RegionInfo
from alibaba_cloud_secretsmanager_client.secret_manager_cache_client_builder import (
    SecretManagerCacheClientBuilder,
)
from alibaba_cloud_secretsmanager_client.service.default_secret_manager_client_builder import (
    DefaultSecretManagerClientBuilder,
)


def main() -> None:
    endpoint, name = sys.argv[1], sys.argv[2]
    manager = (DefaultSecretManagerClientBuilder.standard()
               .with_access_key(os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                                os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
               .add_region_info(RegionInfo("cn-hangzhou", False, endpoint))
               .build())
    client = SecretManagerCacheClientBuilder.new_cache_client_builder(manager).build()
    try:
        for line in itertools.chain(["first"], sys.stdin):
            if line.strip() == "refresh":
                client.refresh_now(name)
            info = client.get_secret_info(name)
            print(json.dumps({"value": client.get_secret_value(name),
                              "version": info.version_id, "type": info.secret_data_type,
                              "secret_type": info.secret_type}), flush=True)
    finally:
        client.close()


if __name__ == "__main__":
    main()
