"""The committed generated code matches the .proto sources (regenerate with `make protos`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _compiler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("proto_compile", ROOT / "proto" / "compile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    _compiler().compile_protos(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed_root = ROOT / "proto"
    generated = [p for p in fresh if p.suffix in {".py", ".pyi"} and p.name != "__init__.py"]
    assert len(generated) >= 8, generated
    missing = [str(p) for p in fresh if not (committed_root / p).exists()]
    assert missing == [], f"generated files not committed, run `make protos`: {missing}"
    stale = [str(p) for p in fresh if (committed_root / p).read_bytes() != fresh[p]]
    assert stale == [], f"generated code is stale, run `make protos`: {stale}"


def test_every_proto_has_stubs() -> None:
    for proto in (ROOT / "proto" / "jgnode").rglob("*.proto"):
        stem = proto.with_suffix("")
        assert Path(f"{stem}_pb2.py").exists()
        assert Path(f"{stem}_pb2.pyi").exists()
