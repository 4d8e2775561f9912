"""Running the per-symbol stages over partitioned Parquet on Dask."""
