"""RFC 6962 (Certificate Transparency) Merkle trees over record bytes.

Leaves are ``H(0x00 || record)``, inner nodes ``H(0x01 || l || r)``; the tree is
built bottom-up with an odd last node promoted unchanged, which gives the same
tree as RFC 6962's largest-power-of-two split. Domain separation of leaves and
nodes stops a node hash passing as a record. ``H`` is the batch suite's digest:
SHA-256 by default, SM3 for the SM2 suite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = ["EMPTY_ROOT", "inclusion_proof", "leaf_hash", "leaf_hashes", "root_from_leaves", "verify_inclusion"]

Digest = Callable[[bytes], bytes]
_LEAF = b"\x00"
_NODE = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(record: bytes, digest: Digest = _sha256) -> bytes:
    """Hash of one record as a Merkle leaf."""
    return digest(_LEAF + record)


def leaf_hashes(records: Iterable[bytes], digest: Digest = _sha256) -> list[bytes]:
    """Leaf hashes of many records, in order."""
    if digest is _sha256:  # the hot path: skip a Python call per record
        sha256 = hashlib.sha256
        return [sha256(_LEAF + record).digest() for record in records]
    return [digest(_LEAF + record) for record in records]


def _parent_level(level: Sequence[bytes], digest: Digest) -> list[bytes]:
    if digest is _sha256:
        sha256 = hashlib.sha256
        pairs = [sha256(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
    else:
        pairs = [digest(_NODE + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        pairs.append(level[-1])
    return pairs


def root_from_leaves(leaves: Sequence[bytes], digest: Digest = _sha256) -> bytes:
    """Merkle tree hash of a list of leaf hashes."""
    if not leaves:
        return digest(b"")
    level: Sequence[bytes] = leaves
    while len(level) > 1:
        level = _parent_level(level, digest)
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int, digest: Digest = _sha256) -> list[bytes]:
    """Audit path of the leaf at ``index``: sibling hashes from the bottom up."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} outside a tree of {len(leaves)}")
    proof: list[bytes] = []
    level: Sequence[bytes] = leaves
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        level = _parent_level(level, digest)
        index //= 2
    return proof


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes, *, digest: Digest = _sha256
) -> bool:
    """Check an audit path (RFC 9162, section 2.1.3.2)."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, node = index, tree_size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = digest(_NODE + sibling + node)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            node = digest(_NODE + node + sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root
