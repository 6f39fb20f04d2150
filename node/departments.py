"""Who is asking for shared data: a department of this node, or a department below it relayed by a child.

A department calls its own node with a department certificate
(``urn:jgnode:department:<node id>/<name>``, ``jgnode pki issue-department``)
naming that node. When the data it wants is held by a node above, its node
relays the call up the tree on a channel it opens with its own node
certificate, naming the department in the ``jgnode-on-behalf-of`` metadata;
the node above believes that only from a node of its subtree, and only for a
department whose node lies in the relaying node's subtree. On an insecure
development node the ``jgnode-subscriber`` metadata names the department.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import grpc
from cryptography import x509

from governance.codes import is_within
from node.errors import ConfigError, VerificationError
from node.grpc_util import caller_certificate, caller_chain, caller_node_id
from node.pki import SOURCE_NAME, load_certificates
from node.settings import NODE_ID

if TYPE_CHECKING:
    from node.trust import TrustStore

__all__ = [
    "ON_BEHALF_METADATA",
    "SUBSCRIBER_METADATA",
    "Caller",
    "check_label",
    "identify_subscriber",
    "within",
]

ON_BEHALF_METADATA: Final = "jgnode-on-behalf-of"
"""Metadata a relaying child names the department with (``<node id>/<name>``)."""
SUBSCRIBER_METADATA: Final = "jgnode-subscriber"
"""Metadata naming the calling department on an insecure development node."""
_DEPARTMENT_URI: Final = "urn:jgnode:department:"


@dataclass(frozen=True, slots=True)
class Caller:
    """The department a call is for, and the child node that relayed it ("" when it called itself)."""

    subscriber: str  # "<node id>/<department name>"
    via: str = ""


def check_label(label: str) -> str:
    """``label`` if it reads ``<node id>/<name>``; VerificationError otherwise."""
    node_id, _, name = label.partition("/")
    if not NODE_ID.match(node_id) or not SOURCE_NAME.match(name):
        raise VerificationError(f"{label!r} does not name a department as <node id>/<name>")
    return label


def within(node_id: str, ancestor: str) -> bool:
    """Whether node ``node_id`` lies in ``ancestor``'s subtree (by their region codes)."""
    try:
        return is_within(node_id[:6], ancestor[:6])
    except ValueError:
        return False


def identify_subscriber(
    trust: TrustStore, *, node_id: str, insecure: bool, children: Sequence[str] = ()
) -> Callable[[grpc.ServicerContext], Caller]:
    """How the Sharing service learns which department a call is for (VerificationError when none may ask).

    ``children``, when given, are the only nodes whose relays are believed
    (``children`` of the node's settings); otherwise any node of the subtree.
    """

    def identify(context: grpc.ServicerContext) -> Caller:
        metadata = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        on_behalf = metadata.get(ON_BEHALF_METADATA, "")
        pem = caller_certificate(context)
        if pem and _names_department(pem):
            department = trust.department(pem, intermediates=caller_chain(context))
            if department.node_id != node_id:
                raise VerificationError(
                    f"the certificate names department {department.label}, not a department of {node_id}"
                )
            if on_behalf and on_behalf != department.label:
                raise VerificationError(f"department {department.label} may not act on behalf of {on_behalf}")
            return Caller(department.label)
        if pem:
            return _relayed(trust.peer(pem, intermediates=caller_chain(context)), on_behalf)
        if not insecure:
            raise VerificationError("no client certificate")
        if on_behalf:
            return _relayed(caller_node_id(context), on_behalf)
        label = check_label(metadata.get(SUBSCRIBER_METADATA, ""))
        if not label.startswith(f"{node_id}/"):
            raise VerificationError(f"{label} is not a department of {node_id}")
        return Caller(label)

    def _relayed(child: str, on_behalf: str) -> Caller:
        if not on_behalf:
            raise VerificationError(
                f"node {child} called the Sharing service for no department (it names one in {ON_BEHALF_METADATA})"
            )
        if child == node_id or not within(child, node_id) or (children and child not in children):
            raise VerificationError(f"{child or 'an unnamed node'} is not a child of {node_id}")
        label = check_label(on_behalf)
        if not within(label.partition("/")[0], child):
            raise VerificationError(f"{child} may not act on behalf of {label}: outside its subtree")
        return Caller(label, via=child)

    return identify


def _names_department(pem: bytes) -> bool:
    """Whether the presented certificate claims to be a department's (the trust store then checks it as one)."""
    try:
        san = load_certificates(pem)[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ConfigError, x509.ExtensionNotFound):
        return False  # not a department's: the node check refuses what it cannot read
    return any(uri.startswith(_DEPARTMENT_URI) for uri in san.get_values_for_type(x509.UniformResourceIdentifier))
