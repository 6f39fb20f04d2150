"""The ``jgnode`` command: set up, run, inspect and feed a node.

Every failure is printed as one line (``jgnode: error: ...``) with a non-zero
exit status; ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from node.errors import ConfigError, JgnodeError, PeerUnavailableError
from node.retry import describe_error

__all__ = ["main"]

log = logging.getLogger("jgnode")
Handler = Callable[[argparse.Namespace], int]


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("node.toml"), help="node config file (default: ./node.toml)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jgnode", description="Gateway node of the Internet + Regulation exchange.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="write a config and signing keys for a new node")
    init.add_argument("--node-id", required=True, help="GB/T 2260 region code plus optional -suffix")
    init.add_argument("--tier", required=True, choices=["county", "city", "province", "national"])
    init.add_argument("--dir", type=Path, default=Path(), help="folder for node.toml, keys and data (default: .)")
    init.add_argument("--listen", default="127.0.0.1:7400", help="host:port to serve on (port 0: any free port)")
    init.add_argument("--parent", help="host:port of the parent node")
    init.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in the data folder)")

    trust = sub.add_parser("trust", help="trust another node's public signing key")
    _config_arg(trust)
    trust.add_argument("node_id", help="the node the key belongs to")
    trust.add_argument("public_key", type=Path, help="its signing.pub file")

    run = sub.add_parser("run", help="run a node until SIGTERM/SIGINT")
    _config_arg(run)

    status = sub.add_parser("status", help="ask a running node for its status")
    _config_arg(status)
    status.add_argument("--address", help="host:port of the node (default: from the config's data folder)")
    status.add_argument("--json", action="store_true", help="print JSON")

    ingest = sub.add_parser("ingest", help="load a CSV file of records into the node's store and outbox")
    _config_arg(ingest)
    ingest.add_argument("file", type=Path)
    ingest.add_argument(
        "--dataset", default="inspection", choices=["inspection", "regulated_object", "penalty", "complaint"]
    )
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")

    verify = sub.add_parser("verify", help="print and check a record's provenance chain")
    _config_arg(verify)
    verify.add_argument("uid", metavar="RECORD_UID")
    verify.add_argument("--dataset", default="")
    verify.add_argument("--origin", default="")
    verify.add_argument("--version", type=int, default=0, help="a specific version (default: latest)")
    verify.add_argument("--address", help="ask this running node instead of reading the local database")

    demo = sub.add_parser("demo", help="run a local province, 2 cities and 4 counties and check the exchange")
    demo.add_argument("--dir", type=Path, default=Path("demo-data"))
    demo.add_argument("--records", type=int, default=60_000, help="records ingested in all counties (>= 50,000)")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the province")

    sample = sub.add_parser("sample", help="write deterministic sample CSV files for a region")
    sample.add_argument("--region", required=True, help="region code of the node the data is for")
    sample.add_argument("--out", type=Path, required=True, help="output folder")
    sample.add_argument("--seed", type=int, default=1)
    sample.add_argument("--inspections", type=int, default=10_000)
    return parser


def _handlers() -> dict[str, Handler]:
    from node import cli_commands  # noqa: PLC0415 - keep `jgnode --help` fast

    return {
        "init": cli_commands.init,
        "trust": cli_commands.trust,
        "run": cli_commands.run,
        "status": cli_commands.status,
        "ingest": cli_commands.ingest,
        "verify": cli_commands.verify,
        "demo": cli_commands.demo,
        "sample": cli_commands.sample,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jgnode`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _handlers()[args.command](args)
    except KeyboardInterrupt:
        return 130
    except JgnodeError as exc:
        return _fail(args, str(exc))
    except grpc.RpcError as exc:
        return _fail(args, str(PeerUnavailableError(describe_error(exc))))
    except OSError as exc:
        return _fail(args, f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    except Exception as exc:  # one line, not a traceback, even for our own bugs
        return _fail(args, f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")


def _fail(args: argparse.Namespace, message: str) -> int:
    if args.debug:
        log.exception("failed")
    print(f"jgnode: error: {message}", file=sys.stderr)
    return 1


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


def require_file(path: Path, what: str) -> Path:
    """``path`` if it exists, else a ConfigError naming ``what``."""
    if not path.exists():
        raise ConfigError(f"{what} {path} not found")
    return path


if __name__ == "__main__":
    sys.exit(main())
