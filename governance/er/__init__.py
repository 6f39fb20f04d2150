"""Entity resolution: de-duplicate one record file or link two (``jgnode dedup`` / ``jgnode link``).

Fellegi-Sunter with EM-estimated weights over several blocking passes, with
Chinese enterprise-name and address normalisation. See ``README.md`` here for
the ``ER.toml`` format and the output files.
"""

from governance.er.blocking import BlockingReport
from governance.er.config import KINDS, BlockRule, CompareSpec, ERConfig, ERConfigError, load_config, parse_config
from governance.er.engine import DedupResult, LinkResult, Match, dedup, link
from governance.er.files import CLUSTER_HEADER, PAIR_HEADER, read_records, write_clusters, write_pairs
from governance.er.model import FellegiSunter
from governance.er.normalise import EnterpriseName, normalise_address, normalise_name, parse_enterprise_name

__all__ = [
    "CLUSTER_HEADER",
    "KINDS",
    "PAIR_HEADER",
    "BlockRule",
    "BlockingReport",
    "CompareSpec",
    "DedupResult",
    "ERConfig",
    "ERConfigError",
    "EnterpriseName",
    "FellegiSunter",
    "LinkResult",
    "Match",
    "dedup",
    "link",
    "load_config",
    "normalise_address",
    "normalise_name",
    "parse_config",
    "parse_enterprise_name",
    "read_records",
    "write_clusters",
    "write_pairs",
]
