"""make dev's own folder (.local/ by default): the secrets it made at its first start, and its data's snapshot."""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SECRETS_FILE = "secrets.json"
LOCK_FILE = "lock"
DATA_DIR = "data"
ENV_OVERRIDES = {  # a value fixed in the environment wins over the kept one (and is not written down)
    "FILO_STAFF_PASSWORD": "staff_password", "FILO_APP_SECRET": "app_secret", "FILO_VERIFY_TOKEN": "verify_token",
}


def local_dir(environ: Mapping[str, str], state_file: Path) -> Path:
    """FILO_LOCAL_DIR, else the folder of the state file (FILO_STATE_FILE, .local/dev.json by default)."""
    named = environ.get("FILO_LOCAL_DIR")
    return Path(named) if named else Path(state_file).parent


@dataclass(frozen=True)
class DevSecrets:
    """What make dev makes up at its first start and must keep, or open console tabs and tools lose their way."""
    staff_password: str  # the console's demo users
    app_secret: str  # signs the sandbox's webhooks
    verify_token: str  # the webhook's subscription check
    access_token: str  # the app's bearer token towards the sandbox
    open311_api_key: str  # the demo Open311 partner's key
    issuer_kid: str  # the local issuer's key id and RSA key: the staff tokens it signed stay valid
    issuer_key_pem: str

    @classmethod
    def new(cls) -> DevSecrets:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return cls(staff_password=secrets.token_urlsafe(9), app_secret=secrets.token_hex(16),
                   verify_token=secrets.token_urlsafe(12), access_token="sandbox-" + secrets.token_hex(12),
                   open311_api_key="o311-" + secrets.token_urlsafe(18), issuer_kid=uuid.uuid4().hex[:16],
                   issuer_key_pem=pem)

    def with_environment(self, environ: Mapping[str, str]) -> DevSecrets:
        fixed = {attribute: environ[variable] for variable, attribute in ENV_OVERRIDES.items() if environ.get(variable)}
        return replace(self, **fixed)


class LocalDir:
    """The folder make dev keeps between restarts: secrets.json (owner-only) and data/ (the snapshot)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.secrets_file = self.root / SECRETS_FILE
        self.data_dir = self.root / DATA_DIR
        self._lock = None

    def lock(self) -> None:
        """Claim the folder for this process (released when it ends): two make devs on one folder would overwrite
        each other's snapshots."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / LOCK_FILE).open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise SystemExit(f"another make dev keeps its data in {self.root}: stop it first, or give this one its "
                             "own folder with FILO_LOCAL_DIR (and ports with FILO_*_PORT)") from None
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def secrets(self, environ: Mapping[str, str]) -> DevSecrets:
        """The kept secrets (made and written down at the first start), with the environment's fixed values."""
        kept = self._read_secrets()
        if kept is None:
            kept = DevSecrets.new()
            self._write_secrets(kept)
        return kept.with_environment(environ)

    def wipe(self) -> None:
        """A clean start: forget the secrets and the data (the folder's other files stay)."""
        self.secrets_file.unlink(missing_ok=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _read_secrets(self) -> DevSecrets | None:
        try:
            kept = json.loads(self.secrets_file.read_text())
        except FileNotFoundError:
            return None
        names = {f.name for f in fields(DevSecrets)}
        if set(kept) != names:
            raise SystemExit(f"{self.secrets_file} is not one make dev wrote (expected {sorted(names)}); "
                             "start clean with FILO_FRESH=1 make dev")
        return DevSecrets(**kept)

    def _write_secrets(self, kept: DevSecrets) -> None:
        write_private(self.secrets_file, json.dumps(asdict(kept), indent=2))


def write_private(path: Path, text: str) -> None:
    """A file only its owner may read (secrets, tokens), written whole then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)  # created afresh, so with owner-only rights
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    os.replace(temporary, path)
