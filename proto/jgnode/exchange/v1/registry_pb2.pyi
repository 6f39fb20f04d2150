from jgnode.exchange.v1 import catalog_pb2 as _catalog_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegistryNode(_message.Message):
    __slots__ = ("node_id", "parent_id", "tier", "endpoint", "certificate_sha256", "reported_at_us")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_SHA256_FIELD_NUMBER: _ClassVar[int]
    REPORTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    parent_id: str
    tier: str
    endpoint: str
    certificate_sha256: _containers.RepeatedScalarFieldContainer[str]
    reported_at_us: int
    def __init__(self, node_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., tier: _Optional[str] = ..., endpoint: _Optional[str] = ..., certificate_sha256: _Optional[_Iterable[str]] = ..., reported_at_us: _Optional[int] = ...) -> None: ...

class RegistryNodes(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[RegistryNode]
    def __init__(self, nodes: _Optional[_Iterable[_Union[RegistryNode, _Mapping]]] = ...) -> None: ...

class RegistryCatalog(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.CatalogEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[_catalog_pb2.CatalogEntry, _Mapping]]] = ...) -> None: ...

class RegistryCrls(_message.Message):
    __slots__ = ("crls",)
    CRLS_FIELD_NUMBER: _ClassVar[int]
    crls: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, crls: _Optional[_Iterable[bytes]] = ...) -> None: ...

class PartRef(_message.Message):
    __slots__ = ("name", "version", "sha256")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    sha256: bytes
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., sha256: _Optional[bytes] = ...) -> None: ...

class RegistryManifest(_message.Message):
    __slots__ = ("root_id", "version", "issued_at_us", "expires_at_us", "parts")
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_US_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_US_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    root_id: str
    version: int
    issued_at_us: int
    expires_at_us: int
    parts: _containers.RepeatedCompositeFieldContainer[PartRef]
    def __init__(self, root_id: _Optional[str] = ..., version: _Optional[int] = ..., issued_at_us: _Optional[int] = ..., expires_at_us: _Optional[int] = ..., parts: _Optional[_Iterable[_Union[PartRef, _Mapping]]] = ...) -> None: ...

class RegistryPart(_message.Message):
    __slots__ = ("name", "data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    data: bytes
    def __init__(self, name: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class FollowRequest(_message.Message):
    __slots__ = ("version", "held")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    version: int
    held: _containers.RepeatedCompositeFieldContainer[PartRef]
    def __init__(self, version: _Optional[int] = ..., held: _Optional[_Iterable[_Union[PartRef, _Mapping]]] = ...) -> None: ...

class SnapshotUpdate(_message.Message):
    __slots__ = ("manifest", "signature", "key_id", "suite", "signer_chain", "parts")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    SIGNER_CHAIN_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    manifest: bytes
    signature: bytes
    key_id: str
    suite: str
    signer_chain: _containers.RepeatedScalarFieldContainer[bytes]
    parts: _containers.RepeatedCompositeFieldContainer[RegistryPart]
    def __init__(self, manifest: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ..., suite: _Optional[str] = ..., signer_chain: _Optional[_Iterable[bytes]] = ..., parts: _Optional[_Iterable[_Union[RegistryPart, _Mapping]]] = ...) -> None: ...

class NodeReport(_message.Message):
    __slots__ = ("nodes", "catalog")
    NODES_FIELD_NUMBER: _ClassVar[int]
    CATALOG_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[RegistryNode]
    catalog: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.CatalogEntry]
    def __init__(self, nodes: _Optional[_Iterable[_Union[RegistryNode, _Mapping]]] = ..., catalog: _Optional[_Iterable[_Union[_catalog_pb2.CatalogEntry, _Mapping]]] = ...) -> None: ...

class ReportReply(_message.Message):
    __slots__ = ("nodes", "changed")
    NODES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    nodes: int
    changed: bool
    def __init__(self, nodes: _Optional[int] = ..., changed: _Optional[bool] = ...) -> None: ...
