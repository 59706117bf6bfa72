"""Find related biomedical papers and map a literature into labelled themes.

The public entry points are :class:`Recommender` (the façade every front end calls) and :class:`Settings`.
"""

from .errors import RecommenderError
from .service import Recommender
from .settings import Settings

__all__ = ["Recommender", "RecommenderError", "Settings"]
__version__ = "0.1.0"
