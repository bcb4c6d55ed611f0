#!/usr/bin/env python3
"""Independent verifier for the ruxue school-admissions lottery `ruxue-draw-v1`.

One file, Python 3.9+ standard library only.  Everything the draw depends on
is re-implemented here from the specification (draw-v1.md):

  * canonical JSON (CJSON, RFC 8785 escaping, integers only)      spec section 1
  * input validation                                              section 2
  * RFC 6962 Merkle root of the roster and inclusion proofs       section 3
  * announcement digest, commitments and seed                     section 4
  * ChaCha20 block function (RFC 8439, written out by hand)       section 5
  * uniform(m) by rejection, Fisher-Yates lottery over units      sections 5-6
  * school rankings, applicant-proposing deferred acceptance,
    waitlists, result and result digest                           sections 7-8

What it does NOT check, and leaves to `ruxue draw verify` (both need
elliptic-curve arithmetic, which the standard library does not have):

  * the BLS signature of a drand beacon value (beacon-drand.md): here the
    value is only checked to be 96 lower-case hex digits of a source whose
    `drand` member names the quicknet chain;
  * the Ed25519 signature of a signed announcement (a JWS): here its
    payload is only decoded and compared with the record's announcement.

Every run says which checks it made ("checked:") and which it did not
("not checked here:").

Usage:
  verify_draw.py RECORD.json [--announcement JWS_FILE]
                                        verify a published record ("-" = stdin)
  verify_draw.py --compute INPUT.json   print the record (input + result) as
                                        CJSON; its record_digest on stderr
  verify_draw.py --proof PROOF.json (RECORD.json | --root HEX --size N)
                                        check an RFC 6962 inclusion proof
                                        against the announced root AND size
  verify_draw.py --proof-for ID RECORD.json
                                        print the inclusion proof of one entry
  verify_draw.py --announcement-digest FILE
                                        print hex SHA-256(CJSON(announcement))
  verify_draw.py --commit NAME VALUE    print a witness commitment
  verify_draw.py --self-test [--vectors DIR]

Exit codes: 0 verified / ok; 1 result differs from the recomputation (or a
proof or self-test fails); 2 the input or record is invalid (nothing is
computed; one line on stderr names the fault); 3 usage or internal error.
"""

import argparse
import base64
import hashlib
import heapq
import json
import os
import re
import sys

VERSION = "ruxue-draw-v1"
MAX_INT = 2 ** 53 - 1
MAX_DEPTH = 32      # arrays and objects nest at most 32 levels, the top object being level 1
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
HEX64_RE = re.compile(r"[0-9a-f]{64}")

EXIT_OK, EXIT_MISMATCH, EXIT_INVALID, EXIT_USAGE = 0, 1, 2, 3


class InvalidInput(Exception):
    """The input or record breaks a rule of the specification (exit code 2)."""


# ---------------------------------------------------------------------------
# Strict JSON reading
# ---------------------------------------------------------------------------

class NonInteger:
    """Stands for a JSON number that is not an integer in its one plain form
    (1.5, 1e3, -0, NaN...) or too long to be read as one.

    It is kept (rather than refused at parse time) so that a bad number in a
    published `result` is reported as a mismatch, and in the input as invalid.
    It never compares equal to anything and CJSON refuses to encode it;
    `reason` says what is wrong with it."""

    __slots__ = ("text", "reason")

    def __init__(self, text, reason=None):
        self.text = text
        self.reason = reason or (
            "the number %s, which is not an integer (floats are not allowed: "
            "no fraction, no exponent)" % text)

    def __repr__(self):
        return self.text


def _parse_int(text):
    # Python's json reads -0 as the integer 0; the specification allows one
    # plain form per integer, so -0 is kept as a non-integer.
    if text == "-0":
        return NonInteger(text, "-0, which is not allowed (an integer has one plain form, "
                                "and zero is written 0)")
    if len(text) > 40:
        # Far outside +-(2^53-1); int() of a huge literal is slow or refused.
        return NonInteger(text, "the integer %s...%s (%d digits), which is out of range "
                                "(magnitude at most 2^53-1)" % (text[:8], text[-4:], len(text)))
    return int(text)


def _parse_constant(text):
    return NonInteger(text, "%s, which is not a JSON number" % text)


class DuplicateKeyObject(dict):
    """A JSON object in which some member name occurs twice."""

    duplicate = None


def _pairs_hook(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        bad = DuplicateKeyObject(d)
        for k, _ in pairs:
            if k in seen:
                bad.duplicate = k
                break
            seen.add(k)
        return bad
    return d


def loads_strict(text):
    return json.loads(text, object_pairs_hook=_pairs_hook, parse_int=_parse_int,
                      parse_float=NonInteger, parse_constant=_parse_constant)


def _path_of(node):
    parts = []
    while node is not None:
        node, part = node
        parts.append(part)
    return "".join(reversed(parts))


def _where(where, node):
    return (where + _path_of(node)).lstrip(".") or "the document"


def check_document(doc, where=""):
    """The rules of spec section 1 that every value of a document obeys:
    every object key is printable ASCII (U+0020-U+007E), and arrays and
    objects nest at most MAX_DEPTH levels, the top object being level 1.

    Iterative on purpose: it runs before any recursive walk (CJSON, the
    comparison of results), so a deeply nested document is reported as
    invalid instead of exhausting Python's recursion limit."""
    containers = (list, dict, DuplicateKeyObject)
    stack = [(doc, 1, None)]     # (value, level, path node)
    pop, push = stack.pop, stack.append
    while stack:
        x, depth, node = pop()
        if depth > MAX_DEPTH:
            raise InvalidInput("%s: nested deeper than %d levels (arrays and objects nest "
                               "at most %d levels deep, the top object counting as one)"
                               % (_where(where, node), MAX_DEPTH, MAX_DEPTH))
        if type(x) is list:
            for i, v in enumerate(x):
                if type(v) in containers:
                    push((v, depth + 1, (node, "[%d]" % i)))
        else:
            for k, v in x.items():
                if not (k.isascii() and k.isprintable()):
                    raise InvalidInput("%s: key %s is not printable ASCII (every object key "
                                       "must be U+0020-U+007E)"
                                       % (_where(where, node), json.dumps(k, ensure_ascii=False)))
                if type(v) in containers:
                    push((v, depth + 1, (node, ".%s" % k)))


def _read_bytes(path):
    """The bytes of a file ('-' = stdin). Raises InvalidInput when it cannot be read."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as e:
        raise InvalidInput("cannot read %s: %s" % (path, e.strerror or e))
    return data


def read_json_file(path, keep_bytes=False):
    """Read a JSON file ('-' = stdin). Raises InvalidInput on any problem.
    With keep_bytes, returns (document, the file's bytes)."""
    data = _read_bytes(path)
    if data.startswith(b"\xef\xbb\xbf"):
        raise InvalidInput("%s starts with a byte-order mark (U+FEFF): a draw document is "
                           "UTF-8 without a byte-order mark" % path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInput("%s is not UTF-8 (byte %d)" % (path, e.start))
    try:
        doc = loads_strict(text)
    except RecursionError:
        # json's own parser gives up long after the limit of the specification.
        raise InvalidInput("%s: nested deeper than %d levels (arrays and objects nest at most "
                           "%d levels deep, the top object counting as one)"
                           % (path, MAX_DEPTH, MAX_DEPTH))
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise InvalidInput("%s is not valid JSON: %s" % (path, e))
    check_document(doc)
    return (doc, data) if keep_bytes else doc


# ---------------------------------------------------------------------------
# Canonical JSON (spec section 1; RFC 8785 string escaping)
# ---------------------------------------------------------------------------

class CJSONError(Exception):
    def __init__(self, message):
        Exception.__init__(self, message)
        self.message = message
        self.path = []

    def __str__(self):
        where = "".join(reversed(self.path))
        return ("at %s: %s" % (where, self.message)) if where else self.message


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f",
                  "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m):
    c = m.group(0)
    e = _SHORT_ESCAPES.get(c)
    if e is None:
        e = "\\u%04x" % ord(c)   # other control characters, lower-case hex
    return e


def cjson_string(s):
    # Everything except the escapes above is emitted as raw UTF-8;
    # '/' is not escaped, nor is U+007F or U+2028.
    if _NEEDS_ESCAPE.search(s) is None:
        return '"' + s + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, s) + '"'


def _cjson(x):
    t = type(x)
    if t is str:
        return cjson_string(x)
    if t is int:
        if -MAX_INT <= x <= MAX_INT:
            return str(x)
        raise CJSONError("integer %d outside +-(2^53-1)" % x)
    if t is list:
        if all(type(v) is str and _NEEDS_ESCAPE.search(v) is None for v in x):
            return '["' + '","'.join(x) + '"]' if x else "[]"
        parts = []
        for i, v in enumerate(x):
            try:
                parts.append(_cjson(v))
            except CJSONError as e:
                e.path.append("[%d]" % i)
                raise
        return "[" + ",".join(parts) + "]"
    if t is dict:
        parts = []
        # Members sorted by key in code point order (Python's str order), as
        # the specification says; keys of a valid document are printable
        # ASCII, where code point, UTF-8 byte and UTF-16 orders all agree.
        # (Sorting by UTF-16 code units, as RFC 8785 does, differs outside
        # the BMP and was a bug.)
        for k in sorted(x):
            try:
                parts.append(cjson_string(k) + ":" + _cjson(x[k]))
            except CJSONError as e:
                e.path.append(".%s" % k)
                raise
        return "{" + ",".join(parts) + "}"
    if x is True:
        return "true"
    if x is False:
        return "false"
    if x is None:
        return "null"
    if t is DuplicateKeyObject:
        raise CJSONError("object with duplicate member %r" % x.duplicate)
    if t is NonInteger:
        raise CJSONError("number %s" % x.reason)
    if t is float:
        raise CJSONError("number %s is not an integer" % (x,))
    raise CJSONError("value of type %s has no JSON form" % t.__name__)


def cjson(x):
    """CJSON bytes of x. Raises CJSONError if x has no canonical form."""
    s = _cjson(x)
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        raise CJSONError("string with an unpaired surrogate (not encodable as UTF-8)")


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------------------
# RFC 6962 Merkle tree (spec section 3)
# ---------------------------------------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root_from_leaf_hashes(level):
    """RFC 6962 MTH, computed bottom-up.  Pairing neighbours level by level
    and carrying an unpaired last node up unchanged gives exactly the tree
    with k = largest power of two smaller than n at every split."""
    if not level:
        return hashlib.sha256(b"").digest()
    sha = hashlib.sha256
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest()
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def merkle_root(leaves):
    return merkle_root_from_leaf_hashes([leaf_hash(d) for d in leaves])


def merkle_root_recursive(leaves):
    """Literal transcription of RFC 6962 section 2.1 (used by the self-test)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root_recursive(leaves[:k]),
                     merkle_root_recursive(leaves[k:]))


def inclusion_path(leaf_hashes, index):
    """RFC 6962 section 2.1.1 audit path PATH(m, D[n]) from leaf hashes."""
    n = len(leaf_hashes)
    if n <= 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if index < k:
        return (inclusion_path(leaf_hashes[:k], index)
                + [merkle_root_from_leaf_hashes(leaf_hashes[k:])])
    return (inclusion_path(leaf_hashes[k:], index - k)
            + [merkle_root_from_leaf_hashes(leaf_hashes[:k])])


def verify_inclusion(leaf_index, tree_size, leaf_h, path, root):
    """RFC 9162 section 2.1.3.2 verification of an inclusion proof."""
    if not (0 <= leaf_index < tree_size):
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf_h
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---------------------------------------------------------------------------
# ChaCha20 (RFC 8439 block function, 20 rounds) and uniform(m)
# ---------------------------------------------------------------------------

M = 0xFFFFFFFF


def chacha20_block(key_words, w12, w13, w14, w15):
    """One ChaCha20 block: returns the 16 output words (as ints).

    key_words: the 8 little-endian words of the 256-bit key.  Words 12..15
    are the counter/nonce words: RFC 8439 puts a 32-bit counter in word 12
    and the 96-bit nonce in words 13..15; rand_chacha puts a 64-bit counter
    in words 12..13 and a 64-bit stream id in 14..15.  With an all-zero
    nonce and a counter below 2^32 both layouts are the same."""
    s = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574,
         key_words[0], key_words[1], key_words[2], key_words[3],
         key_words[4], key_words[5], key_words[6], key_words[7],
         w12, w13, w14, w15)
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = s
    for _ in range(10):  # 10 double rounds = 20 rounds
        # column rounds: QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15)
        # diagonal rounds: QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14)
        # QR(a,b,c,d): a+=b; d^=a; d<<<=16; c+=d; b^=c; b<<<=12;
        #              a+=b; d^=a; d<<<=8;  c+=d; b^=c; b<<<=7
        x0 = (x0 + x4) & M; x12 ^= x0; x12 = ((x12 << 16) & M) | (x12 >> 16)
        x8 = (x8 + x12) & M; x4 ^= x8; x4 = ((x4 << 12) & M) | (x4 >> 20)
        x0 = (x0 + x4) & M; x12 ^= x0; x12 = ((x12 << 8) & M) | (x12 >> 24)
        x8 = (x8 + x12) & M; x4 ^= x8; x4 = ((x4 << 7) & M) | (x4 >> 25)
        x1 = (x1 + x5) & M; x13 ^= x1; x13 = ((x13 << 16) & M) | (x13 >> 16)
        x9 = (x9 + x13) & M; x5 ^= x9; x5 = ((x5 << 12) & M) | (x5 >> 20)
        x1 = (x1 + x5) & M; x13 ^= x1; x13 = ((x13 << 8) & M) | (x13 >> 24)
        x9 = (x9 + x13) & M; x5 ^= x9; x5 = ((x5 << 7) & M) | (x5 >> 25)
        x2 = (x2 + x6) & M; x14 ^= x2; x14 = ((x14 << 16) & M) | (x14 >> 16)
        x10 = (x10 + x14) & M; x6 ^= x10; x6 = ((x6 << 12) & M) | (x6 >> 20)
        x2 = (x2 + x6) & M; x14 ^= x2; x14 = ((x14 << 8) & M) | (x14 >> 24)
        x10 = (x10 + x14) & M; x6 ^= x10; x6 = ((x6 << 7) & M) | (x6 >> 25)
        x3 = (x3 + x7) & M; x15 ^= x3; x15 = ((x15 << 16) & M) | (x15 >> 16)
        x11 = (x11 + x15) & M; x7 ^= x11; x7 = ((x7 << 12) & M) | (x7 >> 20)
        x3 = (x3 + x7) & M; x15 ^= x3; x15 = ((x15 << 8) & M) | (x15 >> 24)
        x11 = (x11 + x15) & M; x7 ^= x11; x7 = ((x7 << 7) & M) | (x7 >> 25)
        x0 = (x0 + x5) & M; x15 ^= x0; x15 = ((x15 << 16) & M) | (x15 >> 16)
        x10 = (x10 + x15) & M; x5 ^= x10; x5 = ((x5 << 12) & M) | (x5 >> 20)
        x0 = (x0 + x5) & M; x15 ^= x0; x15 = ((x15 << 8) & M) | (x15 >> 24)
        x10 = (x10 + x15) & M; x5 ^= x10; x5 = ((x5 << 7) & M) | (x5 >> 25)
        x1 = (x1 + x6) & M; x12 ^= x1; x12 = ((x12 << 16) & M) | (x12 >> 16)
        x11 = (x11 + x12) & M; x6 ^= x11; x6 = ((x6 << 12) & M) | (x6 >> 20)
        x1 = (x1 + x6) & M; x12 ^= x1; x12 = ((x12 << 8) & M) | (x12 >> 24)
        x11 = (x11 + x12) & M; x6 ^= x11; x6 = ((x6 << 7) & M) | (x6 >> 25)
        x2 = (x2 + x7) & M; x13 ^= x2; x13 = ((x13 << 16) & M) | (x13 >> 16)
        x8 = (x8 + x13) & M; x7 ^= x8; x7 = ((x7 << 12) & M) | (x7 >> 20)
        x2 = (x2 + x7) & M; x13 ^= x2; x13 = ((x13 << 8) & M) | (x13 >> 24)
        x8 = (x8 + x13) & M; x7 ^= x8; x7 = ((x7 << 7) & M) | (x7 >> 25)
        x3 = (x3 + x4) & M; x14 ^= x3; x14 = ((x14 << 16) & M) | (x14 >> 16)
        x9 = (x9 + x14) & M; x4 ^= x9; x4 = ((x4 << 12) & M) | (x4 >> 20)
        x3 = (x3 + x4) & M; x14 ^= x3; x14 = ((x14 << 8) & M) | (x14 >> 24)
        x9 = (x9 + x14) & M; x4 ^= x9; x4 = ((x4 << 7) & M) | (x4 >> 25)
    return [(x0 + s[0]) & M, (x1 + s[1]) & M, (x2 + s[2]) & M, (x3 + s[3]) & M,
            (x4 + s[4]) & M, (x5 + s[5]) & M, (x6 + s[6]) & M, (x7 + s[7]) & M,
            (x8 + s[8]) & M, (x9 + s[9]) & M, (x10 + s[10]) & M, (x11 + s[11]) & M,
            (x12 + s[12]) & M, (x13 + s[13]) & M, (x14 + s[14]) & M, (x15 + s[15]) & M]


def block_bytes(words):
    return b"".join(w.to_bytes(4, "little") for w in words)


class Rng:
    """R_0, R_1, ... : little-endian u64s of the ChaCha20 keystream with
    key = seed, all-zero nonce, block counter starting at 0."""

    def __init__(self, seed):
        if len(seed) != 32:
            raise ValueError("seed must be 32 bytes")
        self.key = [int.from_bytes(seed[4 * i:4 * i + 4], "little") for i in range(8)]
        self.counter = 0
        self.buf = []
        self.pos = 8        # empty buffer: the first call computes block 0

    def _refill(self):
        c = self.counter
        w = chacha20_block(self.key, c & M, (c >> 32) & M, 0, 0)
        self.counter = c + 1
        # keystream bytes [8k, 8k+8) little-endian = word 2k | word 2k+1 << 32
        self.buf = [w[0] | (w[1] << 32), w[2] | (w[3] << 32),
                    w[4] | (w[5] << 32), w[6] | (w[7] << 32),
                    w[8] | (w[9] << 32), w[10] | (w[11] << 32),
                    w[12] | (w[13] << 32), w[14] | (w[15] << 32)]
        self.pos = 0

    def next_u64(self):
        if self.pos >= 8:
            self._refill()
        r = self.buf[self.pos]
        self.pos += 1
        return r

    def uniform(self, m):
        """uniform(m), m >= 2: next R with R < 2^64 - (2^64 mod m), mod m."""
        limit = (1 << 64) - ((1 << 64) % m)
        while True:
            r = self.next_u64()
            if r < limit:
                return r % m


# ---------------------------------------------------------------------------
# Validation (spec section 2)
# ---------------------------------------------------------------------------

def _is_int(x):
    return type(x) is int  # refuses bool (a subclass of int) and floats


def _describe(x):
    t = type(x)
    if x is None:
        return "null"
    if t is bool:
        return "a boolean"
    if t is int:
        return "an integer"
    if t is str:
        return "a string"
    if t in (list,):
        return "an array"
    if t in (dict, DuplicateKeyObject):
        return "an object"
    if t is NonInteger:
        return x.reason
    if t is float:
        return "the non-integer number %s" % (x,)
    return t.__name__


def _need_object(x, where):
    if type(x) is DuplicateKeyObject:
        raise InvalidInput("%s: duplicate member %s (it occurs twice)"
                           % (where, json.dumps(x.duplicate)))
    if type(x) is not dict:
        raise InvalidInput("%s must be an object, not %s" % (where, _describe(x)))


def _need_members(obj, where, required, optional=(), free=False):
    for k in required:
        if k not in obj:
            raise InvalidInput("%s: missing member %r" % (where, k))
    if not free:
        allowed = set(required) | set(optional)
        for k in obj:
            if k not in allowed:
                raise InvalidInput("%s: unexpected member %r" % (where, k))


def _need_int(x, where, minimum=-MAX_INT):
    if not _is_int(x):
        raise InvalidInput("%s must be an integer, not %s" % (where, _describe(x)))
    if not (-MAX_INT <= x <= MAX_INT):
        raise InvalidInput("%s = %d: integer out of range (magnitude at most 2^53-1)"
                           % (where, x))
    if x < minimum:
        raise InvalidInput("%s = %d must be >= %d" % (where, x, minimum))


def _need_str(x, where):
    if type(x) is not str:
        raise InvalidInput("%s must be a string, not %s" % (where, _describe(x)))


def _need_entry(x, where, required, key, free=False):
    """An object with the required members (and, with free, any others) whose
    member `key` is an id."""
    _need_object(x, where)
    _need_members(x, where, required, free=free)
    _need_id(x[key], where + "." + key)


def _need_entries(obj, where, member, required, key, free=False):
    """Checks that obj[member] is a non-empty list, then yields (index,
    element, its place) for each element in turn, once _need_entry has
    checked it."""
    items = obj[member]
    _need_list(items, "%s.%s" % (where, member), nonempty=True)
    for i, x in enumerate(items):
        w = "%s.%s[%d]" % (where, member, i)
        _need_entry(x, w, required, key, free=free)
        yield i, x, w


def _need_id(x, where):
    _need_str(x, where)
    if ID_RE.fullmatch(x) is None:
        raise InvalidInput("%s = %s is not a valid identifier "
                           "(^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)" % (where, json.dumps(x, ensure_ascii=False)))


def _need_list(x, where, nonempty=False):
    if type(x) is not list:
        raise InvalidInput("%s must be an array, not %s" % (where, _describe(x)))
    if nonempty and not x:
        raise InvalidInput("%s must not be empty" % where)


def _cjson_or_invalid(x, where):
    try:
        return cjson(x)
    except CJSONError as e:
        raise InvalidInput("%s has no canonical JSON form: %s" % (where, e))


def commitment_of(name, value):
    return sha256_hex(cjson({"name": name, "value": value}))


QUICKNET_CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
SIG_HEX_RE = re.compile(r"[0-9a-f]{96}")


def drand_round_of(src, where):
    """The (chain_hash, round) of an announced source's `drand` member, or
    None.  Raises InvalidInput when the member is malformed."""
    if "drand" not in src:
        return None
    d = src["drand"]
    w = where + ".drand"
    _need_object(d, w)
    _need_members(d, w, ["chain_hash", "round"])
    _need_str(d["chain_hash"], w + ".chain_hash")
    _need_int(d["round"], w + ".round", minimum=1)
    return d["chain_hash"], d["round"]


class Draw:
    """A validated draw input together with the intermediate values."""

    def __init__(self):
        self.announcement = None
        self.roster = None
        self.sources = None
        self.school_ids = []        # announcement order
        self.seats = []
        self.ids = []               # roster order (= ascending byte order)
        self.announcement_digest = None
        self.leaf_hashes = None
        self.roster_root = None
        self.commitments_checked = []   # names of sources whose commitment matched
        self.uncommitted_sources = []   # no commitment and no drand member
        self.drand_sources = []         # (name, round): value NOT checked here (BLS)
        self.seed = None


def validate(doc, record=False):
    """Check every rule of spec section 2.  Returns a Draw; raises InvalidInput.

    With record=True the document must also carry `result` (which is not
    checked here: a wrong result is a mismatch, not an invalid input)."""
    _need_object(doc, "the document")
    top = ["announcement", "roster", "sources"]
    if record:
        if "result" not in doc and all(k in doc for k in top):
            raise InvalidInput("the document has no 'result' member: it is a draw "
                               "input, not a record (use --compute to compute one)")
        _need_members(doc, "the record", top + ["result"])
    else:
        _need_members(doc, "the draw input", top, optional=["result"])
    d = Draw()
    ann = doc["announcement"]
    roster = doc["roster"]
    sources = doc["sources"]

    # --- announcement ---------------------------------------------------
    _need_object(ann, "announcement")
    _need_members(ann, "announcement",
                  ["version", "draw_id", "schools", "roster_root", "roster_size", "sources"],
                  free=True)
    _need_str(ann["version"], "announcement.version")
    if ann["version"] != VERSION:
        raise InvalidInput("announcement.version is %s, this verifier implements %s"
                           % (json.dumps(ann["version"], ensure_ascii=False), VERSION))
    _need_id(ann["draw_id"], "announcement.draw_id")
    school_index = {}
    for si, sch, w in _need_entries(ann, "announcement", "schools", ["id", "seats"], "id"):
        if sch["id"] in school_index:
            raise InvalidInput("%s: duplicate school id %s" % (w, sch["id"]))
        _need_int(sch["seats"], w + ".seats (school %s)" % sch["id"], minimum=0)
        school_index[sch["id"]] = si
        d.school_ids.append(sch["id"])
        d.seats.append(sch["seats"])
    _need_str(ann["roster_root"], "announcement.roster_root")
    _need_int(ann["roster_size"], "announcement.roster_size")
    ann_sources = ann["sources"]
    source_names = {}
    for k, src, w in _need_entries(ann, "announcement", "sources", ["name"], "name", free=True):
        drand_round_of(src, w)
        if src["name"] in source_names:
            raise InvalidInput("%s.name: duplicate source name %s (also announcement.sources[%d])"
                               % (w, json.dumps(src["name"]), source_names[src["name"]]))
        source_names[src["name"]] = k
        if "commitment" in src:
            _need_str(src["commitment"], w + ".commitment")
    ann_bytes = _cjson_or_invalid(ann, "announcement")

    # --- roster ---------------------------------------------------------
    _need_list(roster, "roster", nonempty=True)
    ids = d.ids
    id_set = set()
    families = []    # (index, F)
    prev = None
    for i, e in enumerate(roster):
        w = "roster[%d]" % i
        _need_object(e, w)
        _need_members(e, w, ["id", "prefs", "priority"], optional=["family"])
        eid = e["id"]
        _need_id(eid, w + ".id")
        w = "roster[%d] (%s)" % (i, eid)
        if prev is not None:
            # ids are ASCII, so str order is byte order
            if eid == prev:
                raise InvalidInput("%s: duplicate applicant id" % w)
            if eid < prev:
                raise InvalidInput("roster is not sorted by id: %s comes after %s" % (eid, prev))
        prev = eid
        prefs = e["prefs"]
        _need_list(prefs, w + ".prefs", nonempty=True)
        seen = set()
        for p in prefs:
            _need_str(p, w + ".prefs[]")
            if p not in school_index:
                raise InvalidInput("%s.prefs: unknown school %s"
                                   % (w, json.dumps(p, ensure_ascii=False)))
            if p in seen:
                raise InvalidInput("%s.prefs: school %s listed twice" % (w, p))
            seen.add(p)
        pr = e["priority"]
        _need_object(pr, w + ".priority")
        for p in prefs:
            if p not in pr:
                raise InvalidInput("%s.priority: no member for school %s" % (w, p))
        for p, v in pr.items():
            if p not in seen:
                raise InvalidInput("%s.priority: member %s is not a school in prefs"
                                   % (w, json.dumps(p, ensure_ascii=False)))
            _need_list(v, "%s.priority.%s" % (w, p))
            for x in v:
                _need_int(x, "%s.priority.%s[]" % (w, p))
        if "family" in e:
            _need_str(e["family"], w + ".family")
            families.append((i, e["family"]))
        ids.append(eid)
        id_set.add(eid)
    if families:
        index_of = {eid: i for i, eid in enumerate(ids)}
        for i, f in families:
            j = index_of.get(f)
            if j is None:
                raise InvalidInput("roster[%d] (%s).family = %s names no entry of the roster"
                                   % (i, ids[i], json.dumps(f, ensure_ascii=False)))
            if roster[j].get("family") != f:
                raise InvalidInput("roster[%d] (%s).family = %s, but the entry %s does not "
                                   "carry family %s (a family must name one of its members)"
                                   % (i, ids[i], f, f, f))

    # --- revealed sources -------------------------------------------------
    _need_list(sources, "sources")
    if len(sources) != len(ann_sources):
        raise InvalidInput("sources has %d members, announcement.sources announces %d"
                           % (len(sources), len(ann_sources)))
    for k, src in enumerate(sources):
        w = "sources[%d]" % k
        _need_object(src, w)
        _need_members(src, w, ["name", "value"])
        _need_str(src["name"], w + ".name")
        _need_str(src["value"], w + ".value")
        if src["name"] != ann_sources[k]["name"]:
            raise InvalidInput("%s.name is %s, announcement.sources[%d].name is %s"
                               % (w, json.dumps(src["name"], ensure_ascii=False), k,
                                  json.dumps(ann_sources[k]["name"], ensure_ascii=False)))
    sources_bytes = _cjson_or_invalid(sources, "sources")
    for k, src in enumerate(sources):
        if "commitment" in ann_sources[k]:
            c = commitment_of(src["name"], src["value"])
            if ann_sources[k]["commitment"] != c:
                raise InvalidInput(
                    "sources[%d] (%s): the revealed value does not match its commitment "
                    "(announced %s, value gives %s)"
                    % (k, src["name"], ann_sources[k]["commitment"], c))
            d.commitments_checked.append(src["name"])
        dr = drand_round_of(ann_sources[k], "announcement.sources[%d]" % k)
        if dr is not None:
            chain, rnd = dr
            if chain != QUICKNET_CHAIN_HASH:
                raise InvalidInput("announcement.sources[%d] (%s).drand.chain_hash %s is not drand "
                                   "quicknet's (%s): no other chain is known, so the value "
                                   "cannot be checked" % (k, src["name"], json.dumps(chain),
                                                          QUICKNET_CHAIN_HASH))
            if SIG_HEX_RE.fullmatch(src["value"]) is None:
                raise InvalidInput("sources[%d] (%s).value must be the signature of drand round %d "
                                   "as 96 lower-case hex digits, not %s"
                                   % (k, src["name"], rnd, _show(src["value"])))
            d.drand_sources.append((src["name"], rnd))
        elif "commitment" not in ann_sources[k]:
            d.uncommitted_sources.append(src["name"])
    del sources_bytes

    # --- roster root and size --------------------------------------------
    n = len(roster)
    if ann["roster_size"] != n:
        raise InvalidInput("announcement.roster_size is %d, the roster has %d entries"
                           % (ann["roster_size"], n))
    leaf_hashes = []
    sha = hashlib.sha256
    for i, e in enumerate(roster):
        leaf_hashes.append(sha(b"\x00" + _cjson_or_invalid(e, "roster[%d]" % i)).digest())
    root = merkle_root_from_leaf_hashes(leaf_hashes).hex()
    if ann["roster_root"] != root:
        raise InvalidInput("announcement.roster_root is %s, the roster's RFC 6962 root is %s"
                           % (ann["roster_root"], root))

    d.announcement, d.roster, d.sources = ann, roster, sources
    d.leaf_hashes = leaf_hashes
    d.roster_root = root
    d.announcement_digest = sha256_hex(ann_bytes)
    seed_obj = {"announcement": d.announcement_digest,
                "sources": [{"name": s["name"], "value": s["value"]} for s in sources],
                "version": VERSION}
    d.seed = hashlib.sha256(cjson(seed_obj)).digest()
    return d


# ---------------------------------------------------------------------------
# The draw (spec sections 6-8)
# ---------------------------------------------------------------------------

def compute_result(d):
    """Recompute `result` from a validated Draw."""
    roster, ids = d.roster, d.ids
    n = len(ids)
    index_of = {eid: i for i, eid in enumerate(ids)}

    # Units: an entry's family if it has one, else its own id.  A family F is
    # the id of one of its members, so a unit is named by a roster index, and
    # index order is id byte order (the roster is sorted).
    rep = list(range(n))
    for i, e in enumerate(roster):
        f = e.get("family")
        if f is not None:
            rep[i] = index_of[f]
    members = {}
    for i in range(n):
        r = rep[i]
        if r in members:
            members[r].append(i)
        else:
            members[r] = [i]
    units = sorted(members)            # U[0..m) in ascending byte order

    rng = Rng(d.seed)
    uniform = rng.uniform
    for i in range(len(units) - 1, 0, -1):
        j = uniform(i + 1)
        units[i], units[j] = units[j], units[i]

    num = [0] * n
    lottery = []                       # ids by (lottery number, id)
    for p, u in enumerate(units):
        for i in members[u]:           # ascending index = ascending id
            num[i] = p + 1
            lottery.append(i)

    # Flatten the preference lists: position pos = off[i] + k is applicant
    # i's k-th choice.
    ns = len(d.school_ids)
    sidx = {sid: s for s, sid in enumerate(d.school_ids)}
    off = [0] * (n + 1)
    f_school, f_app, f_prio = [], [], []
    for i, e in enumerate(roster):
        pr = e["priority"]
        for sid in e["prefs"]:
            f_school.append(sidx[sid])
            f_app.append(i)
            f_prio.append(pr[sid])
        off[i + 1] = len(f_school)
    per_school = [[] for _ in range(ns)]
    for pos, s in enumerate(f_school):
        per_school[s].append(pos)
    # Each school ranks its applicants by (priority, lottery number, id);
    # priorities are lists of ints, compared lexicographically by Python
    # with a proper prefix first, as the spec requires.
    f_rank = [0] * len(f_school)
    ranking = []                       # per school: positions in ranking order
    for s in range(ns):
        order = sorted(per_school[s], key=lambda pos: (f_prio[pos], num[f_app[pos]], f_app[pos]))
        for r, pos in enumerate(order):
            f_rank[pos] = r
        ranking.append(order)
    per_school = None

    # Applicant-proposing deferred acceptance.  held[s] is a max-heap (by
    # rank, stored negated) of the applicants school s provisionally holds.
    seats = d.seats
    held = [[] for _ in range(ns)]
    nxt = off[:n]                      # next position to propose from
    assigned = [-1] * n                # school index or -1
    assigned_pos = [-1] * n
    heappush, heapreplace = heapq.heappush, heapq.heapreplace
    free = list(range(n - 1, -1, -1))
    while free:
        i = free.pop()
        end = off[i + 1]
        pos = nxt[i]
        while pos < end:
            s = f_school[pos]
            pos += 1
            cap = seats[s]
            if cap == 0:
                continue
            h = held[s]
            r = f_rank[pos - 1]
            if len(h) < cap:
                heappush(h, -r)
                assigned[i], assigned_pos[i] = s, pos - 1
                break
            worst = -h[0]
            if r < worst:
                heapreplace(h, -r)
                assigned[i], assigned_pos[i] = s, pos - 1
                loser = f_app[ranking[s][worst]]
                assigned[loser], assigned_pos[loser] = -1, -1
                free.append(loser)
                break
        nxt[i] = pos

    assignments = {}
    waitlists = {}
    for s, sid in enumerate(d.school_ids):
        order = ranking[s]
        assignments[sid] = [ids[f_app[order[r]]] for r in sorted(-x for x in held[s])]
        wl = []
        for pos in order:
            i = f_app[pos]
            a = assigned[i]
            if a != s and (a == -1 or pos < assigned_pos[i]):
                wl.append(ids[i])
        waitlists[sid] = wl
    unassigned = [ids[i] for i in lottery if assigned[i] == -1]

    return {
        "version": VERSION,
        "draw_id": d.announcement["draw_id"],
        "announcement_digest": d.announcement_digest,
        "seed": d.seed.hex(),
        "lottery": [ids[i] for i in lottery],
        "lottery_numbers": {ids[i]: num[i] for i in lottery},
        "assignments": assignments,
        "unassigned": unassigned,
        "waitlists": waitlists,
    }


def result_digest(result):
    return sha256_hex(cjson(result))


# ---------------------------------------------------------------------------
# Comparing a published result with the recomputed one
# ---------------------------------------------------------------------------

def same(a, b):
    """Deep equality that also compares types (1 != true, 1 != 1.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if type(a) is NonInteger or type(a) is DuplicateKeyObject:
        return False
    return a == b


def _safe(text):
    """Text that can be printed whatever the published data contains."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _show(x):
    if type(x) is NonInteger:
        return x.text
    if type(x) is DuplicateKeyObject:
        return "an object with duplicate member %r" % x.duplicate
    try:
        s = json.dumps(x, ensure_ascii=False)
    except (TypeError, ValueError):
        s = repr(x)
    return s if len(s) <= 80 else s[:77] + "..."


def _first_list_difference(where, pub, comp, what="applicant"):
    if type(pub) is not list:
        return "%s: published %s is not an array" % (where, _describe(pub))
    for k, (x, y) in enumerate(zip(pub, comp)):
        if not same(x, y):
            return "%s[%d]: published %s, recomputed %s" % (where, k, _show(x), _show(y))
    if len(pub) > len(comp):
        return "%s: published has %d entries, recomputed %d; first extra is %s" % (
            where, len(pub), len(comp), _show(pub[len(comp)]))
    if len(pub) < len(comp):
        return "%s: published has %d entries, recomputed %d; first missing is %s %s" % (
            where, len(pub), len(comp), what, _show(comp[len(pub)]))
    return None


def _first_map_difference(where, pub, comp, order, what):
    if type(pub) is not dict:
        return "%s: published %s is not an object" % (where, _describe(pub))
    for key in order:
        if key not in pub:
            return "%s: %s %s is missing" % (where, what, key)
        c = comp[key]
        if type(c) is list:
            diff = _first_list_difference("%s.%s" % (where, key), pub[key], c)
            if diff:
                return diff
        elif not same(pub[key], c):
            return "%s.%s (%s %s): published %s, recomputed %s" % (
                where, key, what, key, _show(pub[key]), _show(c))
    for key in pub:
        if key not in comp:
            return "%s: unexpected %s %s" % (where, what, _show(key))
    return None


def first_discrepancy(pub, comp, school_ids):
    """Name the first difference between a published and a recomputed result,
    or return None if they are the same."""
    if type(pub) is not dict:
        return "result: published %s is not an object" % _describe(pub)
    for key in comp:
        if key not in pub:
            return "result.%s is missing" % key
    for key in ("version", "draw_id", "announcement_digest", "seed"):
        if not same(pub[key], comp[key]):
            return "result.%s: published %s, recomputed %s" % (key, _show(pub[key]), _show(comp[key]))
    # (member, None for a list, or the keys of a map in order and what they name)
    for key, keys, what in (("lottery", None, None),
                            ("lottery_numbers", comp["lottery"], "applicant"),
                            ("assignments", school_ids, "school"),
                            ("unassigned", None, None),
                            ("waitlists", school_ids, "school")):
        if keys is None:
            diff = _first_list_difference("result." + key, pub[key], comp[key])
        else:
            diff = _first_map_difference("result." + key, pub[key], comp[key], keys, what)
        if diff:
            return diff
    for key in pub:
        if key not in comp:
            return "result: unexpected member %s" % _show(key)
    if not same(pub, comp):
        return "result differs from the recomputed one"
    try:
        if cjson(pub) != cjson(comp):
            return "result differs from the recomputed one in canonical form"
    except CJSONError as e:
        return "result has no canonical JSON form: %s" % e
    return None


# ---------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------

CT_TEST_LEAVES = ["", "00", "10", "2021", "3031", "40414243",
                  "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_TEST_ROOT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def self_test(vectors_dir=None, out=sys.stdout):
    failures = []

    def check(name, ok, detail=""):
        out.write("%s: %s%s\n" % ("ok" if ok else "FAIL", name, (" (" + detail + ")") if detail and not ok else ""))
        if not ok:
            failures.append(name)

    # ChaCha20
    r0 = Rng(bytes(32)).next_u64()
    check("ChaCha20 all-zero seed R_0 = 0x903df1a0ade0b876", r0 == 0x903DF1A0ADE0B876, hex(r0))
    key = bytes(range(32))
    kw = [int.from_bytes(key[4 * i:4 * i + 4], "little") for i in range(8)]
    blk = block_bytes(chacha20_block(kw, 1, 0x09000000, 0x4A000000, 0))
    check("ChaCha20 block function, RFC 8439 section 2.3.2 test vector",
          blk.hex() == "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                       "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
          blk.hex())
    rng = Rng(bytes(32))
    ks = b"".join(rng.next_u64().to_bytes(8, "little") for _ in range(16))
    check("ChaCha20 keystream, RFC 8439 A.1 test vectors #1 and #2 (counter 0 and 1)",
          ks.hex() == "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
                      "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
                      "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
                      "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
          ks.hex())
    # Merkle
    leaves = [bytes.fromhex(h) for h in CT_TEST_LEAVES]
    check("RFC 6962 / CT test tree root", merkle_root(leaves).hex() == CT_TEST_ROOT)
    ok = all(merkle_root(leaves[:n] * 3) == merkle_root_recursive(leaves[:n] * 3)
             for n in range(0, 9))
    ok = ok and all(merkle_root([bytes([i]) for i in range(n)]) ==
                    merkle_root_recursive([bytes([i]) for i in range(n)]) for n in range(1, 70))
    check("bottom-up Merkle root equals the recursive RFC 6962 definition", ok)
    ok = True
    for n in range(1, 40):
        lh = [leaf_hash(bytes([i])) for i in range(n)]
        root = merkle_root_from_leaf_hashes(lh)
        for i in range(n):
            p = inclusion_path(lh, i)
            ok = ok and verify_inclusion(i, n, lh[i], p, root)
            ok = ok and not verify_inclusion(i, n, leaf_hash(b"x"), p, root)
            if n > 1:
                ok = ok and not verify_inclusion((i + 1) % n, n, lh[i], p, root)
    check("inclusion proofs for trees of 1..39 leaves", ok)
    # CJSON
    sample = {"b": [1, -2, 9007199254740991], "a": "\"\\\b\f\n\r\t\x01\x1f/\u00e9\u2028\x7f",
              "c": {"z": True, "y": None, "x": False}}
    check("CJSON escaping matches json.dumps", cjson(sample).decode("utf-8") ==
          json.dumps(sample, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    check("CJSON control escapes use lower-case hex", cjson("\x1b\x1f") == b'"\\u001b\\u001f"')
    for bad in (1.5, 2 ** 53, NonInteger("1e3")):
        try:
            cjson([bad])
            check("CJSON refuses %r" % (bad,), False)
        except CJSONError:
            check("CJSON refuses %r" % (bad,), True)
    # uniform
    rng = Rng(bytes(32))
    check("uniform(m) = R mod m when R is accepted", rng.uniform(10) == 0x903DF1A0ADE0B876 % 10)

    if vectors_dir:
        names = sorted(f for f in os.listdir(vectors_dir) if f.endswith(".json"))
        if not names:
            check("vectors found in %s" % vectors_dir, False)
        for name in names:
            path = os.path.join(vectors_dir, name)
            try:
                doc = read_json_file(path)
                d = validate(doc, record=True)
                comp = compute_result(d)
                diff = first_discrepancy(doc["result"], comp, d.school_ids)
                canon_ok = all(
                    cjson(x).decode("utf-8") == json.dumps(x, ensure_ascii=False, sort_keys=True,
                                                           separators=(",", ":"))
                    for x in (doc["announcement"], doc["sources"], doc["result"], doc["roster"]))
                check("vector %s" % name, diff is None, diff or "")
                check("vector %s: CJSON equals json.dumps" % name, canon_ok)
            except (InvalidInput, CJSONError) as e:
                check("vector %s" % name, False, str(e))
        inv = os.path.join(vectors_dir, "invalid")
        if os.path.isdir(inv):
            for name in sorted(f for f in os.listdir(inv) if f.endswith(".json")):
                try:
                    validate(read_json_file(os.path.join(inv, name)), record=False)
                    check("invalid vector %s is refused" % name, False, "accepted")
                except InvalidInput as e:
                    out.write("ok: invalid vector %s is refused: %s\n" % (name, e))
    out.write("self-test: %s\n" % ("FAILED (%d)" % len(failures) if failures else "all passed"))
    return EXIT_OK if not failures else EXIT_MISMATCH


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _print_summary(d, result, out):
    w = out.write
    w("version: %s\n" % VERSION)
    w("draw_id: %s\n" % d.announcement["draw_id"])
    w("announcement_digest: %s\n" % d.announcement_digest)
    w("roster_size: %d\n" % len(d.ids))
    w("roster_root: %s (matches the roster)\n" % d.roster_root)
    for name in d.commitments_checked:
        w("source: %s (commitment matches)\n" % name)
    for name, rnd in d.drand_sources:
        w("source: %s (drand quicknet round %d: the value is a signature in the right form; "
          "its BLS signature is NOT checked here, `ruxue draw verify` checks it)\n" % (name, rnd))
    for name in d.uncommitted_sources:
        w("source: %s (no commitment; check its value against the public beacon by hand)\n" % name)
    if not d.sources:
        w("warning: the announcement names no randomness source\n")
    w("seed: %s\n" % d.seed.hex())
    for sid, seats in zip(d.school_ids, d.seats):
        w("school %s: admitted %d / seats %d, waitlist %d\n"
          % (sid, len(result["assignments"][sid]), seats, len(result["waitlists"][sid])))
    w("unassigned: %d\n" % len(result["unassigned"]))


def record_bytes(d, result):
    """CJSON(record) of a validated draw with the result `result` (spec
    section 8); record_digest is its SHA-256."""
    return cjson({"announcement": d.announcement, "result": result,
                  "roster": d.roster, "sources": d.sources})


def _checks_lines(d, out, extra_checked=(), extra_not=()):
    checked = ["input rules and roster root and size", "result recomputed"]
    if d.commitments_checked:
        checked.append("commitments (%d: %s)" % (len(d.commitments_checked),
                                                 ", ".join(d.commitments_checked)))
    checked.extend(extra_checked)
    out.write("checked: %s\n" % "; ".join(checked))
    missing = ["beacon drand quicknet round %d (source %s): its BLS signature, which needs "
               "curve arithmetic; use `ruxue draw verify`" % (rnd, json.dumps(name))
               for name, rnd in d.drand_sources]
    missing.extend(extra_not)
    missing.extend("source %s (no commitment and no drand round: check its value by hand)"
                   % json.dumps(name) for name in d.uncommitted_sources)
    if missing:
        out.write("not checked here: %s\n" % "; ".join(missing))


def read_jws_announcement(path):
    """The announcement carried by a signed announcement (compact JWS).  Its
    Ed25519 signature is NOT checked (that needs curve arithmetic; `ruxue
    draw verify --announcement FILE --key JWK` checks it)."""
    data = _read_bytes(path)
    return decode_jws(data, path)


def _b64url(part, what, where):
    if re.fullmatch(r"[A-Za-z0-9_-]*", part) is None or len(part) % 4 == 1:
        raise InvalidInput("%s: the JWS %s is not base64url without padding" % (where, what))
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_jws(data, where):
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidInput("%s is not a compact JWS (not ASCII)" % where)
    parts = text.split(".")
    if len(parts) != 3:
        raise InvalidInput("%s is not a compact JWS: %d parts separated by '.', expected 3"
                           % (where, len(parts)))
    try:
        header = loads_strict(_b64url(parts[0], "header", where).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("%s: the JWS header is not JSON" % where)
    if type(header) is not dict or header.get("alg") != "EdDSA":
        raise InvalidInput("%s: the JWS header's alg must be \"EdDSA\"" % where)
    payload = _b64url(parts[1], "payload", where)
    _b64url(parts[2], "signature", where)
    try:
        ann = loads_strict(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("%s: the JWS payload is not JSON" % where)
    check_document(ann, "the JWS payload")
    _need_object(ann, "the JWS payload")
    if _cjson_or_invalid(ann, "the JWS payload") != payload:
        raise InvalidInput("%s: the JWS payload is not in canonical form (it must be exactly "
                           "CJSON(announcement))" % where)
    return ann, header.get("kid")


def cmd_verify(path, out, announcement_path=None):
    doc, data = read_json_file(path, keep_bytes=True)
    d = validate(doc, record=True)
    result = compute_result(d)
    out.write("record: %s\n" % ("<stdin>" if path == "-" else path))
    _print_summary(d, result, out)
    digest = result_digest(result)
    out.write("result_digest: %s\n" % digest)
    pub = doc["result"]
    try:
        out.write("published_result_digest: %s\n" % result_digest(pub))
    except CJSONError as e:
        out.write("published_result_digest: (none: not canonical JSON: %s)\n" % e)
    diff = first_discrepancy(pub, result, d.school_ids)
    if diff:
        out.write("mismatch: %s\n" % _safe(diff))
        out.write("verdict: MISMATCH\n")
        return EXIT_MISMATCH
    rec = record_bytes(d, result)
    out.write("record_digest: %s (%s)\n" % (
        sha256_hex(rec), "the file is exactly CJSON(record)" if rec == data else
        "of the record's canonical form; the file itself is not canonical JSON"))
    extra_checked, extra_not = [], []
    if announcement_path is None:
        extra_not.append("announcement signature (no --announcement given; compare "
                         "announcement_digest with the signed announcement)")
    else:
        signed, kid = read_jws_announcement(announcement_path)
        signed_digest = sha256_hex(cjson(signed))
        if signed_digest != d.announcement_digest:
            out.write("mismatch: the record's announcement (digest %s) is not the signed "
                      "announcement %s (digest %s)\n"
                      % (d.announcement_digest, announcement_path, signed_digest))
            out.write("verdict: MISMATCH\n")
            return EXIT_MISMATCH
        extra_checked.append("record's announcement is the payload of the signed announcement "
                             "(digest %s)" % signed_digest)
        extra_not.append("announcement signature (Ed25519%s), which needs curve arithmetic; use "
                         "`ruxue draw verify --announcement FILE --key JWK`"
                         % ((", key id %s" % kid) if type(kid) is str else ""))
    _checks_lines(d, out, extra_checked, extra_not)
    out.write("verdict: OK\n")
    return EXIT_OK


def cmd_compute(path, out, err=None):
    doc = read_json_file(path)
    d = validate(doc, record=False)
    result = compute_result(d)
    # The record is published as CJSON (spec section 8): exactly these bytes,
    # with no final newline, so that the SHA-256 of the file is record_digest.
    rec = record_bytes(d, result)
    out.write(rec.decode("utf-8"))
    if err is not None:
        err.write("result_digest: %s\n" % result_digest(result))
        err.write("announcement_digest: %s\n" % d.announcement_digest)
        err.write("record_digest: %s\n" % sha256_hex(rec))
    return EXIT_OK


def _announcement_of(doc, where):
    _need_object(doc, where)
    if "announcement" in doc:
        doc = doc["announcement"]
        _need_object(doc, where + ".announcement")
    return doc


def cmd_announcement_digest(path, out):
    ann = _announcement_of(read_json_file(path), path)
    out.write("announcement_digest: %s\n" % sha256_hex(_cjson_or_invalid(ann, "announcement")))
    return EXIT_OK


def cmd_proof(proof_path, record_path, out, root=None, size=None, err=sys.stderr):
    pf = read_json_file(proof_path)
    _need_object(pf, "the proof")
    _need_members(pf, "the proof", ["leaf_index", "tree_size", "entry", "audit_path", "root"])
    _need_int(pf["leaf_index"], "leaf_index", minimum=0)
    _need_int(pf["tree_size"], "tree_size", minimum=1)
    _need_object(pf["entry"], "entry")
    _need_list(pf["audit_path"], "audit_path")
    path = []
    for k, h in enumerate(pf["audit_path"]):
        _need_str(h, "audit_path[%d]" % k)
        if HEX64_RE.fullmatch(h) is None:
            raise InvalidInput("audit_path[%d] is not 64 lower-case hex digits" % k)
        path.append(bytes.fromhex(h))
    _need_str(pf["root"], "root")
    if HEX64_RE.fullmatch(pf["root"]) is None:
        raise InvalidInput("root is not 64 lower-case hex digits")
    entry_bytes = _cjson_or_invalid(pf["entry"], "entry")
    who = pf["entry"].get("id")
    who = who if type(who) is str else "(entry without id)"
    # The root and size come from the announcement, never from the proof
    # (spec section 9): one audit path can fit more than one tree size.
    if record_path is not None:
        ann = _announcement_file(record_path, err)
        root, size = ann.get("roster_root"), ann.get("roster_size")
        _need_str(root, "the announcement's roster_root")
        _need_int(size, "the announcement's roster_size", minimum=0)
        source = record_path
    else:
        source = "--root and --size"
    if HEX64_RE.fullmatch(root) is None:
        raise InvalidInput("the announced roster_root is not 64 lower-case hex digits")
    if pf["root"] != root:
        out.write("proof: FAILED: the proof's root %s is not the announced roster_root %s\n"
                  % (pf["root"], root))
        return EXIT_MISMATCH
    if not same(pf["tree_size"], size):
        out.write("proof: FAILED: the proof's tree_size %d is not the announced roster_size %d\n"
                  % (pf["tree_size"], size))
        return EXIT_MISMATCH
    out.write("announced roster_root: %s, roster_size: %d (from %s)\n" % (root, size, source))
    ok = verify_inclusion(pf["leaf_index"], size, leaf_hash(entry_bytes),
                          path, bytes.fromhex(root))
    if ok:
        out.write("proof: ok: entry %s is leaf %d of %d under root %s\n"
                  % (who, pf["leaf_index"], size, root))
        return EXIT_OK
    out.write("proof: FAILED: entry %s is not leaf %d of %d under root %s\n"
              % (who, pf["leaf_index"], pf["tree_size"], pf["root"]))
    return EXIT_MISMATCH


def _announcement_file(path, err):
    """The announcement in a JSON record, input or announcement, or in a
    signed announcement (compact JWS, whose signature is NOT checked here)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as e:
        raise InvalidInput("cannot read %s: %s" % (path, e.strerror or e))
    if head.startswith(b"{"):
        return _announcement_of(read_json_file(path), path)
    ann, _ = read_jws_announcement(path)
    err.write("not checked here: the Ed25519 signature of %s (use `ruxue draw "
                     "check-proof --announcement FILE --key JWK`)\n" % path)
    return ann


def make_proof(d, applicant_id):
    try:
        i = d.ids.index(applicant_id)
    except ValueError:
        raise InvalidInput("no roster entry has id %s" % json.dumps(applicant_id, ensure_ascii=False))
    return {"leaf_index": i, "tree_size": len(d.ids), "entry": d.roster[i],
            "audit_path": [h.hex() for h in inclusion_path(d.leaf_hashes, i)],
            "root": d.roster_root}


def cmd_proof_for(applicant_id, path, out):
    doc = read_json_file(path)
    d = validate(doc, record=False)
    out.write(json.dumps(make_proof(d, applicant_id), ensure_ascii=False, indent=1) + "\n")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("usage error: %s\n" % message)
        raise SystemExit(EXIT_USAGE)


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    p = _Parser(prog="verify_draw.py",
                description="Independent verifier of ruxue-draw-v1 lottery records.")
    p.add_argument("record", nargs="?", help="record (or draw input) JSON file, '-' for stdin")
    p.add_argument("--compute", metavar="INPUT.json", help="print the full record for a draw input")
    p.add_argument("--proof", metavar="PROOF.json", help="check an RFC 6962 inclusion proof "
                   "against the roster_root and roster_size of the announcement: of RECORD (a "
                   "record, input, announcement or signed announcement), or --root and --size")
    p.add_argument("--root", metavar="HEX", help="with --proof: the announced roster_root")
    p.add_argument("--size", metavar="N", type=int, help="with --proof: the announced roster_size")
    p.add_argument("--announcement", metavar="JWS_FILE",
                   help="with RECORD: the signed announcement (compact JWS); its payload must be "
                        "the record's announcement (its signature is not checked here)")
    p.add_argument("--proof-for", metavar="ID", help="print the inclusion proof of entry ID of RECORD")
    p.add_argument("--announcement-digest", metavar="FILE",
                   help="print the digest of an announcement (bare, or the member of a record)")
    p.add_argument("--commit", nargs=2, metavar=("NAME", "VALUE"),
                   help="print the commitment hex(SHA-256(CJSON({name, value})))")
    p.add_argument("--self-test", action="store_true", help="run the built-in checks")
    p.add_argument("--vectors", metavar="DIR", help="with --self-test: also check every vector in DIR")
    a = p.parse_args(argv)
    modes = sum(x is not None and x is not False for x in
                (a.compute, a.proof, a.proof_for, a.announcement_digest, a.commit, a.self_test or None))
    if modes > 1:
        p.error("choose one of --compute, --proof, --proof-for, --announcement-digest, --commit, --self-test")
    if a.vectors and not a.self_test:
        p.error("--vectors goes with --self-test")
    if a.announcement is not None and modes:
        p.error("--announcement goes with verifying a RECORD")
    try:
        if a.self_test:
            if a.record:
                p.error("--self-test takes no record")
            return self_test(a.vectors, out)
        if a.compute is not None:
            if a.record:
                p.error("--compute takes one file")
            return cmd_compute(a.compute, out, err)
        if a.proof is not None:
            if (a.root is None) != (a.size is None):
                p.error("--root and --size go together")
            if a.record and a.root is not None:
                p.error("give the announcement either as RECORD or as --root and --size")
            if not a.record and a.root is None:
                p.error("a proof is checked against the roster_root AND roster_size of the "
                        "announcement, never the ones it carries: give RECORD.json (a record, "
                        "input, announcement or signed announcement) or --root HEX --size N")
            return cmd_proof(a.proof, a.record, out, a.root, a.size, err)
        if a.root is not None or a.size is not None:
            p.error("--root and --size go with --proof")
        if a.proof_for is not None:
            if not a.record:
                p.error("--proof-for needs a RECORD")
            return cmd_proof_for(a.proof_for, a.record, out)
        if a.announcement_digest is not None:
            if a.record:
                p.error("--announcement-digest takes one file")
            return cmd_announcement_digest(a.announcement_digest, out)
        if a.commit is not None:
            if a.record:
                p.error("--commit takes no record")
            out.write("commitment: %s\n" % commitment_of(a.commit[0], a.commit[1]))
            return EXIT_OK
        if not a.record:
            p.error("give a RECORD.json (or '-' for stdin)")
        return cmd_verify(a.record, out, a.announcement)
    except InvalidInput as e:
        err.write("invalid: %s\n" % _safe(" ".join(str(e).split())))
        return EXIT_INVALID
    except CJSONError as e:
        err.write("invalid: %s\n" % _safe(" ".join(str(e).split())))
        return EXIT_INVALID


if __name__ == "__main__":
    # Records are UTF-8; print UTF-8 whatever the console's code page is.
    for _stream in (sys.stdout, sys.stderr):
        try:
            _stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass
    try:
        code = main()
    except KeyboardInterrupt:
        code = EXIT_USAGE
    except SystemExit:
        raise
    except Exception as e:  # an internal error must never look like success
        sys.stderr.write("internal error: %s: %s\n" % (type(e).__name__, e))
        code = EXIT_USAGE
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.exit(code)
