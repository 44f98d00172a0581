"""The ballot box: votes sealed for the count, trackers (README "Secret ballots").

Opening a ballot makes a key pair (Curve25519, PyNaCl). The public key is stored as it is; the
private key is stored wrapped (XSalsa20-Poly1305, ``nacl.secret.SecretBox``) with a key derived from
the application's SECRET_KEY and the ballot id, so the database alone cannot open a sealed vote.
A vote is ONE sealed box (``nacl.public.SealedBox``) of the whole ballot paper in canonical JSON,
padded so that every vote of a ballot has the same length (a "yes" and an "abstain" must not differ
in size). Closing the ballot opens the boxes, checks them, and the wrapped private key is erased.

A tracker is a short hash of the sealed box: the deputy sees it after voting and finds it among the
published trackers of the ballot; it says nothing about what they chose.
"""
from __future__ import annotations

import base64
import hashlib
import json

from flask import current_app
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

_PERSON = b"ballot-box-v1"


def _wrapping_key(ballot_id: int) -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hashlib.blake2b(f"ballot {ballot_id} private key".encode(), key=hashlib.sha512(secret).digest(),
                           digest_size=SecretBox.KEY_SIZE, person=_PERSON).digest()


def new_key_pair(ballot_id: int) -> tuple[bytes, bytes]:
    """(public key, wrapped private key) for a ballot being opened."""
    private = PrivateKey.generate()
    wrapped = SecretBox(_wrapping_key(ballot_id)).encrypt(bytes(private))
    return bytes(private.public_key), bytes(wrapped)


def unwrap_private_key(ballot_id: int, wrapped: bytes) -> PrivateKey:
    return PrivateKey(SecretBox(_wrapping_key(ballot_id)).decrypt(bytes(wrapped)))


def canonical(chosen: dict[int, str], item_ids: list[int], longest_choice: int) -> bytes:
    """The ballot paper as canonical JSON ({"<item id>": "<choice>"}, keys sorted, no spaces),
    padded with trailing spaces (still valid JSON) to the length of the longest possible paper."""
    text = json.dumps({str(k): v for k, v in chosen.items()}, sort_keys=True, separators=(",", ":"))
    longest = json.dumps({str(k): "x" * longest_choice for k in item_ids}, sort_keys=True, separators=(",", ":"))
    data = text.encode()
    return data + b" " * (len(longest.encode()) - len(data))


def seal(public_key: bytes, paper: bytes) -> bytes:
    return SealedBox(PublicKey(bytes(public_key))).encrypt(paper)


def open_sealed(private_key: PrivateKey, ciphertext: bytes) -> dict[int, str]:
    """The paper inside one sealed vote; raises ValueError if it is not a well-formed paper."""
    raw = json.loads(SealedBox(private_key).decrypt(bytes(ciphertext)).decode())
    if not isinstance(raw, dict):
        raise ValueError("a sealed vote is not an object")
    paper = {}
    for key, value in raw.items():
        if not key.isascii() or not key.isdigit() or str(int(key)) != key or not isinstance(value, str):
            raise ValueError(f"bad entry in a sealed vote: {key!r}")
        paper[int(key)] = value
    return paper


def tracker(ciphertext: bytes) -> str:
    """选票核验码: 40 bits of the sealed vote's hash, as 8 letters and digits (XXXX-XXXX)."""
    code = base64.b32encode(hashlib.blake2b(bytes(ciphertext), digest_size=5).digest()).decode()
    return f"{code[:4]}-{code[4:]}"
