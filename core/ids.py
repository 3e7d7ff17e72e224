"""24-character hex ids in the shape of a MongoDB ObjectId (what Fynd clients expect)."""

import itertools
import os
import re
import time

_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")


def new_object_id() -> str:
    """4-byte timestamp, 5 random bytes, 3-byte counter: sortable by creation second, unique."""
    timestamp = int(time.time()).to_bytes(4, "big")
    counter = (next(_counter) % 0xFFFFFF).to_bytes(3, "big")
    return (timestamp + os.urandom(5) + counter).hex()


def is_object_id(value) -> bool:
    return isinstance(value, str) and bool(OBJECT_ID_RE.match(value))
