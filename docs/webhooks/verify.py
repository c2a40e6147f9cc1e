"""Verify a Guild webhook delivery (Standard Webhooks), with the standard library only.

Use it in your receiver:

    payload = verify(["whsec_..."], request.headers, request.body)

`headers` is any mapping with the lower-case header names; `body` is the raw
request body as bytes, exactly as received (do not parse and re-serialise it
before verifying). Pass every secret you currently accept: during a rotation
the delivery carries one signature per secret, and any one that matches is
enough.

Run as a script, it checks a captured delivery (the JSON file the Guild test
suite writes): `python3 verify.py capture.json`.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

# Reject deliveries whose timestamp is more than 5 minutes off your clock:
# a captured delivery replayed later fails here even though it is signed.
TOLERANCE_SECONDS = 5 * 60


class InvalidDelivery(Exception):
    """The delivery is not from Guild, was altered, or is replayed."""


def verify(secrets, headers, body, now=None):
    """Answers the delivery's JSON payload, or raises InvalidDelivery."""
    try:
        msg_id = headers["webhook-id"]
        timestamp = headers["webhook-timestamp"]
        signatures = headers["webhook-signature"]
    except KeyError as missing:
        raise InvalidDelivery(f"missing header {missing}") from None
    now = time.time() if now is None else now
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidDelivery("timestamp outside the tolerance")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
        for signature in signatures.split(" "):
            version, _, value = signature.partition(",")
            if version == "v1" and hmac.compare_digest(value.encode(), expected):
                return json.loads(body)
    raise InvalidDelivery("no signature matches")


def main(path):
    with open(path, encoding="utf-8") as f:
        capture = json.load(f)
    headers = capture["headers"]
    body = capture["body"].encode()
    now = capture["now"]
    payload = verify(capture["secrets"], headers, body, now)
    assert payload["id"] == headers["webhook-id"], payload
    # What must fail: an altered body, another secret, a replay 6 minutes later.
    failures = [
        (capture["secrets"], body + b" ", now),
        (["whsec_" + base64.b64encode(b"another secret, 32 bytes long!!").decode()], body, now),
        (capture["secrets"], body, now + 6 * 60),
    ]
    for secrets, altered, at in failures:
        try:
            verify(secrets, headers, altered, at)
        except InvalidDelivery:
            continue
        raise SystemExit("an invalid delivery verified")
    print(f"python: verified {payload['type']} {payload['id']}")


if __name__ == "__main__":
    main(sys.argv[1])
