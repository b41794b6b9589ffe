"""Child process for Hub tests: loopback-only sockets, then okapi's CLI or a load_dataset.

huggingface_hub and datasets read HF_ENDPOINT and the offline flags when first imported, and the
test process imports them offline. So every call that talks to the fake Hub runs here, in a
fresh interpreter started with the right environment:

    python tests/hub_client.py okapi publish DIR --repo ORG/NAME ...
    python tests/hub_client.py load ORG/NAME CONFIG      # prints JSON: rows per split, first row
"""

from __future__ import annotations

import json
import sys

from loopback import allow_loopback_only

allow_loopback_only()


def load(repo_id: str, config: str) -> None:
    import datasets

    data = datasets.load_dataset(repo_id, config)
    first = next(iter(data.values()))
    summary = {
        "configs": datasets.get_dataset_config_names(repo_id),
        "rows": {split: part.num_rows for split, part in data.items()},
        "columns": list(first.features),
        "first_id": first[0]["id"] if first.num_rows else None,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3])
    else:
        from okapi.cli import main

        sys.exit(main(sys.argv[2:]))
