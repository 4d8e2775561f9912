"""capscope: small-cap market analysis that can be checked line by line.

Importing the package is cheap on purpose (no numba compilation, no pandas import): the stages live in
sub-packages (:mod:`capscope.data`, :mod:`capscope.store`, :mod:`capscope.indicators`, ...) and are imported
where they are used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
