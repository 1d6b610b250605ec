#!/usr/bin/env python3
"""Verifies one webhook delivery with the official Standard Webhooks library.

A receiver written in Python checks Hooklane's deliveries exactly like this.
The end-to-end tests (cli/tests/outbound.rs) pipe a delivery their sink
captured through this script, so Hooklane's signatures are checked by an
implementation Hooklane does not share code with.

Input, on stdin, so the secret never shows in a process list:

    {"secret": "whsec_...", "headers": {"webhook-id": "...", ...}, "body": "<the raw body>"}

Exit status: 0 when the delivery verifies (prints `verified <webhook-id>`),
1 when it does not (prints why on stderr), 2 when the input is unusable.

Needs the `standardwebhooks` package (tests/run.sh installs it in .venv).
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    try:
        given = json.load(sys.stdin)
        secret = given["secret"]
        headers = {str(k): str(v) for k, v in given["headers"].items()}
        body = given["body"]
    except (ValueError, KeyError, AttributeError, TypeError) as e:
        print(f"the input is not {{secret, headers, body}} JSON: {e}", file=sys.stderr)
        return 2
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError as e:
        print(f"not verified: {e}", file=sys.stderr)
        return 1
    print(f"verified {headers.get('webhook-id', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
