from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SharingClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARING_CLASS_UNSPECIFIED: _ClassVar[SharingClass]
    SHARING_CLASS_UNCONDITIONAL: _ClassVar[SharingClass]
    SHARING_CLASS_CONDITIONAL: _ClassVar[SharingClass]
    SHARING_CLASS_NOT_SHARED: _ClassVar[SharingClass]
SHARING_CLASS_UNSPECIFIED: SharingClass
SHARING_CLASS_UNCONDITIONAL: SharingClass
SHARING_CLASS_CONDITIONAL: SharingClass
SHARING_CLASS_NOT_SHARED: SharingClass

class FieldDescriptor(_message.Message):
    __slots__ = ("name", "type", "personal")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    personal: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., personal: _Optional[bool] = ...) -> None: ...

class CatalogEntry(_message.Message):
    __slots__ = ("resource_code", "dataset", "name", "provider_node", "provider_department", "fields", "sharing_class", "conditions", "update_cycle", "schema_version")
    RESOURCE_CODE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NODE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SHARING_CLASS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_CYCLE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    resource_code: str
    dataset: str
    name: str
    provider_node: str
    provider_department: str
    fields: _containers.RepeatedCompositeFieldContainer[FieldDescriptor]
    sharing_class: SharingClass
    conditions: str
    update_cycle: str
    schema_version: int
    def __init__(self, resource_code: _Optional[str] = ..., dataset: _Optional[str] = ..., name: _Optional[str] = ..., provider_node: _Optional[str] = ..., provider_department: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[FieldDescriptor, _Mapping]]] = ..., sharing_class: _Optional[_Union[SharingClass, str]] = ..., conditions: _Optional[str] = ..., update_cycle: _Optional[str] = ..., schema_version: _Optional[int] = ...) -> None: ...

class ListResourcesRequest(_message.Message):
    __slots__ = ("sharing_class",)
    SHARING_CLASS_FIELD_NUMBER: _ClassVar[int]
    sharing_class: SharingClass
    def __init__(self, sharing_class: _Optional[_Union[SharingClass, str]] = ...) -> None: ...

class ListResourcesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[CatalogEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[CatalogEntry, _Mapping]]] = ...) -> None: ...

class GetResourceRequest(_message.Message):
    __slots__ = ("resource_code",)
    RESOURCE_CODE_FIELD_NUMBER: _ClassVar[int]
    resource_code: str
    def __init__(self, resource_code: _Optional[str] = ...) -> None: ...
