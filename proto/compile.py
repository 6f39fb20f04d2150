"""Regenerate the Python code for every .proto under proto/ (``make protos``).

Writes ``*_pb2.py``, ``*_pb2.pyi``, ``*_pb2_grpc.py`` and ``*_pb2_grpc.pyi``
next to the sources (or into ``--out``, which the staleness test uses), plus the
``__init__.py`` files that make ``jgnode.<area>.v1`` importable. Generated code
is committed and never edited by hand.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

PROTO_ROOT = Path(__file__).resolve().parent
PACKAGE = "jgnode"


def proto_files(root: Path = PROTO_ROOT) -> list[Path]:
    """All .proto sources below the proto root, sorted for a stable order."""
    return sorted((root / PACKAGE).rglob("*.proto"))


def compile_protos(out: Path) -> None:
    """Generate code for every proto source into ``out``."""
    include = Path(protoc.__file__).resolve().parent / "_proto"
    plugin = shutil.which("protoc-gen-mypy_grpc", path=str(Path(sys.executable).parent))
    if plugin is None:
        raise SystemExit("protoc-gen-mypy_grpc not found next to this Python: install the dev extras")
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--plugin=protoc-gen-mypy_grpc={plugin}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_grpc_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for source in files:
        package_dir = out / Path(source).parent
        while package_dir != out:
            (package_dir / "__init__.py").touch()
            package_dir = package_dir.parent
    (out / PACKAGE / "py.typed").touch()


def main() -> None:
    """Command line: ``python proto/compile.py [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROTO_ROOT, help="output root (default: next to the sources)")
    compile_protos(parser.parse_args().out)


if __name__ == "__main__":
    main()
