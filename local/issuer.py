"""A local stand-in for Cognito: an RSA key (make dev keeps it in .local/), its JWKS, and staff tokens per role."""
from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "http://127.0.0.1/local-issuer"
AUDIENCE = "filo-diretto-local"


class LocalIssuer:
    def __init__(self, key_pem: str | None = None, kid: str | None = None) -> None:
        """A new key, or a kept one (PEM, PKCS#8) with its key id: tokens it signed before stay valid."""
        self.kid = kid or uuid.uuid4().hex[:16]
        self._key = serialization.load_pem_private_key(key_pem.encode(), password=None) if key_pem \
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> str:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        public.update(kid=self.kid, alg="RS256", use="sig")
        return json.dumps({"keys": [public]})

    def token(self, tenant: str, roles: list[str], subject: str | None = None, ttl_seconds: int = 12 * 3600,
              **claims) -> str:
        """An ID token shaped like Cognito's: custom:tenant and cognito:groups."""
        now = int(time.time())
        payload = {
            "sub": subject or f"local-{'-'.join(roles) or 'none'}", "iss": ISSUER, "aud": AUDIENCE,
            "iat": now, "exp": now + ttl_seconds, "token_use": "id", "custom:tenant": tenant,
            "cognito:groups": roles, "email": f"{'-'.join(roles) or 'staff'}@{tenant}.example", **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    def env(self) -> dict[str, str]:
        """The app settings that make it trust this issuer."""
        return {"STAFF_JWKS": self.jwks(), "STAFF_ISSUER": ISSUER, "STAFF_AUDIENCE": AUDIENCE}
