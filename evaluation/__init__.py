"""Workshop outcome evaluation toolkit.

Ingest pre-, post- and follow-up survey exports, match participants across waves with keyed
pseudonyms, compute validated outcome statistics and render donor-ready reports.
"""

from evaluation.errors import EvaluationError

__version__ = "0.1.0"

__all__ = ["EvaluationError", "__version__"]
