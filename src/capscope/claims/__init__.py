"""Claims: the claim-file schema (:mod:`capscope.claims.schema`) and the checks (:mod:`capscope.claims.check`)."""

from capscope.claims.check import CONTRADICTED, NOT_DETERMINABLE, SUPPORTED, VERDICTS, Verdict, verify_claims
from capscope.claims.schema import (
    KINDS,
    AnyClaim,
    claim_symbols,
    claims_json_schema,
    claims_json_schema_text,
    load_claims,
    parse_claims,
)

__all__ = [
    "CONTRADICTED",
    "KINDS",
    "NOT_DETERMINABLE",
    "SUPPORTED",
    "VERDICTS",
    "AnyClaim",
    "Verdict",
    "claim_symbols",
    "claims_json_schema",
    "claims_json_schema_text",
    "load_claims",
    "parse_claims",
    "verify_claims",
]
