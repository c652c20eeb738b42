"""KB search: retrievers → fusion → calibrated confidence → answer/clarify/handoff decision.

Callers use `SearchEngine` only; retrievers (lexical today, dense next) plug in behind
`kb.search.retriever.Retriever` and are combined in `kb.search.fusion`.
"""

from kb.search.engine import QueryError, SearchEngine, SearchHit, SearchResponse

__all__ = ["QueryError", "SearchEngine", "SearchHit", "SearchResponse"]
