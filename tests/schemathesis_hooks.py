"""schemathesis hooks for tests/schemathesis.sh.

What a JSON Schema cannot say is completed here, for schema-valid cases only, the way a real
client would: the check character of a 统一社会信用代码, a fresh `Idempotency-Key` per
request, and an upload that is a document (a 1×1 PNG) rather than random bytes, which the API
refuses by their content (415, tested in tests/tests/api/files.rs). Schema-violating cases are sent as generated, to be refused.
"""

import re
import uuid

import schemathesis
from schemathesis.transport.serialization import Binary

# GB 32100-2015: the characters of a code; position i (0-based) of the first 17 weighs 3^i mod 31.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# The shape the API description states (the `uscc` pattern), in parts.
_USCC = re.compile(r"^(\s*)([0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{9})[0-9A-HJ-NP-RTUW-Y](\s*)$", re.I)
# The `Idempotency-Key` pattern of the API description.
_KEY = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$")


# A 1×1 grey PNG.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
)


def _check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17.upper()))
    return ALPHABET[(31 - total % 31) % 31]


def _with_check_char(value):
    match = _USCC.match(value) if isinstance(value, str) else None
    if not match:
        return value
    lead, first17, trail = match.groups()
    return f"{lead}{first17}{_check_char(first17)}{trail}"


@schemathesis.hook
def before_call(context, case, kwargs):
    # Editing a case makes schemathesis revalidate it, which would turn a case probing a missing
    # `Authorization` into one that gets the token back: schema-violating cases stay untouched.
    if case.meta is None or case.meta.generation.mode.is_negative:
        return
    # Changed in place, so the edit is seen as the client's, not as a new case.
    if isinstance(case.body, dict) and "uscc" in case.body:
        case.body["uscc"] = _with_check_char(case.body["uscc"])
    if case.path == "/api/v1/files" and isinstance(case.body, dict) and "file" in case.body:
        # Wrapped as schemathesis wraps generated binary, so the case stays schema-valid.
        case.body["file"] = Binary(_PNG)
    # The same key with another body is refused (422) by design; generated keys repeat.
    headers = case.headers
    key = headers.get("Idempotency-Key") if headers else None
    if isinstance(key, str) and len(key) <= 128 and _KEY.match(key):
        headers["Idempotency-Key"] = uuid.uuid4().hex
