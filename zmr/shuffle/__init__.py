"""Moving map output to reducers: each worker's shuffle service and the reducers' fetcher."""
