"""Signing a plan: a detached Ed25519 signature of its manifest.json, and the check of one.

The manifest holds the SHA-256 of every file of the plan folder and of every input, so a
signature over its bytes vouches for all of them: whoever edits a table and writes its new hash
into the manifest (which ``planner verify`` cannot tell from the real thing by hashes alone)
changes the manifest's bytes, and the signature no longer matches. What a signature proves is
who approved the plan: the holder of the private key. Keep that key with the official who signs
(the file is readable by its owner only); publish the public key where auditors find it.

The signature lies beside the manifest as ``manifest.sig``, a small JSON document:

- ``format``: ``planner-manifest-signature-v1``; ``algorithm``: ``Ed25519``; ``file``: ``manifest.json``;
- ``manifest_sha256``: the SHA-256 of the manifest that was signed (to say "edited after signing"
  rather than only "does not match");
- ``public_key_sha256``: the SHA-256 of the signer's raw 32-byte public key (its fingerprint);
- ``signature``: base64 of the 64-byte Ed25519 signature of the manifest's bytes, exactly as on disk.

Ed25519 signatures are deterministic: the same key and manifest give the same file. Keys are PEM
files (PKCS#8 private key, SubjectPublicKeyInfo public key), as OpenSSL writes and reads them,
so an auditor without the planner can check a signature with OpenSSL (docs/security.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from planner.messages import Message, console_lang, msg, text
from planner.outputs import OutputError
from planner.problems import InputError, Problem

SIGNATURE = "manifest.sig"
MANIFEST = "manifest.json"
FORMAT = "planner-manifest-signature-v1"
PRIVATE_KEY = "plan-signing.key"
PUBLIC_KEY = "plan-signing.pub"
_MAX_KEY_BYTES = 64 * 1024  # a PEM key is a few hundred bytes; anything far larger is not one


@dataclass(frozen=True)
class KeyPair:
    """The two files ``generate_keys`` wrote."""

    private_key: Path
    public_key: Path
    fingerprint: str  # SHA-256 of the raw public key, hex


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """The SHA-256 of the raw 32-byte public key (hex): how a signature names its key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_keys(out_dir: Path | str) -> KeyPair:
    """A new Ed25519 key pair as PEM files in ``out_dir`` (made if missing): ``plan-signing.key``,
    readable by its owner only (mode 0600), and ``plan-signing.pub``. Existing key files are never
    replaced (``OutputError``): losing a signing key would orphan every plan it signed."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder")
    private_path, public_path = folder / PRIVATE_KEY, folder / PUBLIC_KEY
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise OutputError(f"{path} already exists; a key file is never replaced: choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # created with mode 0600 from the start (O_EXCL: never through an existing file or link)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        os.chmod(private_path, 0o600)  # whatever the umask
        public_path.write_bytes(public_pem)
    except BaseException:
        private_path.unlink(missing_ok=True)
        public_path.unlink(missing_ok=True)
        raise
    return KeyPair(private_path, public_path, fingerprint(key.public_key()))


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    """The Ed25519 private key of a PEM file; ``InputError`` with a sentence if it is not one."""
    data = _read_key_file(Path(path))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise _key_error(path, msg("input.key.passphrase")) from None
    except (ValueError, UnsupportedAlgorithm):
        public = b"PUBLIC KEY" in data
        raise _key_error(path, msg("input.key.public_not_private" if public else "input.key.not_private")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _key_error(
            path,
            msg("input.key.not_ed25519_keygen", kind=type(key).__name__.removeprefix("_"), command="planner keygen"),
        )
    return key


def load_public_key(path: Path | str) -> Ed25519PublicKey:
    """The Ed25519 public key of a PEM file; ``InputError`` with a sentence if it is not one."""
    data = _read_key_file(Path(path))
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        private = b"PRIVATE KEY" in data
        raise _key_error(
            path,
            msg("input.key.private_not_public", pub="plan-signing.pub") if private else msg("input.key.not_public"),
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise _key_error(path, msg("input.key.not_ed25519", kind=type(key).__name__.removeprefix("_")))
    return key


def _read_key_file(path: Path) -> bytes:
    if not path.is_file():
        raise _key_error(path, msg("input.file.not_found"))
    if path.stat().st_size > _MAX_KEY_BYTES:
        raise _key_error(path, msg("input.key.too_large", size=f"{path.stat().st_size:,}"))
    try:
        return path.read_bytes()
    except OSError as error:
        raise _key_error(path, msg("input.file.unreadable", error=error.strerror or str(error))) from None


def _key_error(path: Path | str, rule: Message) -> InputError:
    return InputError([Problem(str(path), None, None, None, rule)])


def sign_plan(plan_dir: Path | str, key_file: Path | str, replace: bool = False) -> Path:
    """Write ``manifest.sig`` beside the plan's manifest.json, signed with the private key in
    ``key_file``; returns its path. An existing signature is kept unless ``replace``. The caller
    checks the plan first (``planner sign`` checks every file's hash against the manifest)."""
    root = Path(plan_dir)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise InputError([Problem(str(manifest), None, None, None, msg("input.folder.not_plan"))])
    target = root / SIGNATURE
    if os.path.lexists(target) and not replace:
        raise OutputError(f"{target} already exists: the plan is signed; pass --force to sign it again")
    key = load_private_key(key_file)
    data = manifest.read_bytes()
    document = {
        "format": FORMAT,
        "algorithm": "Ed25519",
        "file": MANIFEST,
        "manifest_sha256": hashlib.sha256(data).hexdigest(),
        "public_key_sha256": fingerprint(key.public_key()),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }
    partial = root / f".{SIGNATURE}.partial"
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)  # never a half-written signature under the final name
    return target


def _say(message_id: str, **fields) -> str:
    """A finding's sentence in the console's language (planner.messages)."""
    return text(message_id, console_lang()).format(**fields)


def check_signature(plan_dir: Path | str, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with the plan's signature under ``public_key``: empty when ``manifest.sig``
    is a valid Ed25519 signature of manifest.json's bytes by that key."""
    root = Path(plan_dir)
    path = root / SIGNATURE
    if not path.is_file():
        return [_say("signature.missing", file=SIGNATURE)]
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        signature = base64.b64decode(str(document["signature"]), validate=True)
    except (OSError, ValueError, UnicodeDecodeError, KeyError, binascii.Error) as error:
        return [_say("signature.unreadable", file=SIGNATURE, error=error)]
    if document.get("format") != FORMAT or document.get("algorithm") != "Ed25519":
        return [_say("signature.format", file=SIGNATURE, format=repr(document.get("format")))]
    data = (root / MANIFEST).read_bytes()
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        given = fingerprint(public_key)
        if document.get("public_key_sha256") not in (None, given):
            return [_say("signature.other_key", signed=str(document["public_key_sha256"])[:16], given=given[:16])]
        if document.get("manifest_sha256") != hashlib.sha256(data).hexdigest():
            return [_say("signature.manifest_edited", file=MANIFEST)]
        return [_say("signature.mismatch", file=MANIFEST)]
    return []


__all__ = [
    "SIGNATURE",
    "KeyPair",
    "check_signature",
    "fingerprint",
    "generate_keys",
    "load_private_key",
    "load_public_key",
    "sign_plan",
]
