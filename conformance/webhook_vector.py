#!/usr/bin/env python3
"""A reference test vector for fal's webhook signatures, made without our code.

fal signs each webhook delivery (protocol.md §6, fal's webhook verification
guide) with Ed25519 over the message

    request_id + "\n" + user_id + "\n" + timestamp + "\n" + hex(sha256(raw body))

and sends the signature, hex-encoded, in `X-Fal-Webhook-Signature`, beside
`X-Fal-Webhook-Request-Id`, `X-Fal-Webhook-User-Id` and
`X-Fal-Webhook-Timestamp` (Unix seconds). The public keys are published as a
JWKS of `{"kty":"OKP","crv":"Ed25519","x":<base64url>}` keys.

This script signs a fixed body with a fixed Ed25519 seed using PyPI's
`cryptography` package (OpenSSL), and prints the vector as JSON: the JWKS, the
four headers, the body and the signed message. Ed25519 signatures are
deterministic, so the output never changes. The Rust test
`tests/tests/webhook_rotation.rs` checks that `WebhookVerifier` accepts the
committed copy, `tests/fixtures/webhook/reference_vector.json`, and rejects it when any
one byte of the body, signature or timestamp changes.

Usage:
    python3 conformance/webhook_vector.py                 # print the vector
    python3 conformance/webhook_vector.py --write FILE    # (re)write the fixture
    python3 conformance/webhook_vector.py --check FILE    # exit 1 unless FILE is what this script makes

Needs `pip install cryptography` (any version with Ed25519, >= 2.6).
"""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# The seed: SHA-256 of a fixed label, so it is not a value our Rust tests use.
SEED = hashlib.sha256(b"fal-ltx reference webhook vector, seed 1").digest()
REQUEST_ID = "764cabcf-b745-4b3e-ae38-1200304cf45b"
USER_ID = "github|1234567"
TIMESTAMP = "1767225600"  # 2026-01-01T00:00:00Z
# The raw body, byte for byte as fal would send it (compact JSON, non-ASCII text as UTF-8).
BODY = json.dumps(
    {
        "request_id": REQUEST_ID,
        "gateway_request_id": REQUEST_ID,
        "status": "OK",
        "payload": {
            "video": {
                "url": "https://v3b.fal.media/files/b/0a90dffd/eMLEPeY2lCHdduXt1urcw_000_video.mp4",
                "content_type": "video/mp4",
            },
            "seed": 42,
            "prompt": "Un phare au crépuscule — 夕暮れの灯台",
        },
    },
    ensure_ascii=False,
    separators=(",", ":"),
).encode("utf-8")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def vector() -> dict:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    digest = hashlib.sha256(BODY).hexdigest()
    message = f"{REQUEST_ID}\n{USER_ID}\n{TIMESTAMP}\n{digest}"
    signature = key.sign(message.encode("utf-8"))
    # Check with the public key alone, as a receiver would.
    key.public_key().verify(signature, message.encode("utf-8"))
    return {
        "about": "fal webhook signature reference vector, made by conformance/webhook_vector.py with PyPI cryptography",
        "seed_hex": SEED.hex(),
        "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig", "x": b64url(public)}]},
        "headers": {
            "x-fal-webhook-request-id": REQUEST_ID,
            "x-fal-webhook-user-id": USER_ID,
            "x-fal-webhook-timestamp": TIMESTAMP,
            "x-fal-webhook-signature": signature.hex(),
        },
        "body": BODY.decode("utf-8"),
        "body_sha256": digest,
        "message": message,
    }


def render() -> str:
    return json.dumps(vector(), ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="write the vector to FILE")
    group.add_argument("--check", metavar="FILE", help="fail unless FILE holds exactly the vector")
    args = parser.parse_args()
    text = render()
    if args.write:
        with open(args.write, "w", encoding="utf-8") as out:
            out.write(text)
    elif args.check:
        with open(args.check, encoding="utf-8") as committed:
            if committed.read() != text:
                print(f"{args.check} differs from what conformance/webhook_vector.py makes", file=sys.stderr)
                return 1
        print("webhook reference vector (Python cryptography): ok")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
