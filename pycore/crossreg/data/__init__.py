"""Windows, orthology-aware split, target transform and HDF5 shards."""
