"""Write a comune and its WhatsApp channels into a deployed stage's tables (AWS credentials from the environment).

    python infra/tenant.py infra/examples/comune.json --stage prod [--prefix filo-prod-comune-x]

The file holds {"tenant_id", "name", "settings", "channels": [{"phone_number_id", "kind", "name",
"display_phone_number", "settings", "waba_id"}]}; see infra/examples/comune.json. Running it again overwrites both.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--prefix", help="the stack's resource_prefix, when the deployment set one")
    args = parser.parse_args(argv)
    from filo_infra.settings import chalice_stage_env

    # the table names are fixed when chalicelib's models are imported: set the prefix first
    os.environ["RESOURCE_PREFIX"] = args.prefix or chalice_stage_env(args.stage)["RESOURCE_PREFIX"]
    from chalicelib.domain.tenancy import Channel
    from chalicelib.store import directory

    comune = json.loads(args.file.read_text())
    directory.save_tenant(comune["tenant_id"], comune["name"], comune["settings"])
    for channel in comune["channels"]:
        directory.save_channel(Channel(tenant_id=comune["tenant_id"], **channel))
    print(f"{comune['tenant_id']}: {len(comune['channels'])} channel(s) written to {os.environ['RESOURCE_PREFIX']}-*")


if __name__ == "__main__":
    main()
