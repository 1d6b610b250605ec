"""moto_server with DynamoDB's per-item atomicity.

DynamoDB applies each write (PutItem, UpdateItem, DeleteItem,
TransactWriteItems) atomically: two concurrent `ADD n :one` on one item
both count. moto 5 applies an UpdateItem as an unlocked read-modify-write,
so under its threaded server two concurrent increments of one item can
lose one, and the store's concurrency conformance tests would fail now and
then for moto's sake. This starts moto's own server with its DynamoDB
writes (and reads, so none sees half a write) taken one at a time.

    python tests/moto_atomic.py -H 127.0.0.1 -p PORT   # moto_server's arguments
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_ONE_AT_A_TIME = threading.RLock()


def _atomic(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _ONE_AT_A_TIME:
            return method(*args, **kwargs)

    return locked


for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item",
              "batch_write_item"):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    sys.exit(main())
