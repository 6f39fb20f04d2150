"""Collection adapters: where records come from (files, sample data, later databases and feeds)."""
