"""The local web server (CloudFront's role in make dev): one origin for the front ends and the API."""
from __future__ import annotations

import requests


def test_api_paths_are_proxied_to_the_app_on_the_same_origin(stack):
    token = stack.issuer.token("demo", ["admin"])
    answer = requests.get(f"{stack.web_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["tenant"] == "demo"
    refused = requests.get(f"{stack.web_url}/api/v1/me", timeout=10)
    assert refused.status_code == 401


def test_config_tells_the_front_ends_their_tenant_and_tile_source(stack):
    config = requests.get(f"{stack.web_url}/config.json", timeout=10).json()
    assert config["tenant"] == "demo" and "tiles_url" in config


def test_paths_outside_the_front_ends_are_not_found(stack):
    assert requests.get(f"{stack.web_url}/etc/passwd", timeout=10).status_code == 404
    assert requests.get(f"{stack.web_url}/portal/../../app.py", timeout=10).status_code in (200, 404, 503)
    assert "import" not in requests.get(f"{stack.web_url}/portal/..%2f..%2fapp.py", timeout=10).text
