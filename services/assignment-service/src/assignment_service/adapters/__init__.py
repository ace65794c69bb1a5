"""I/O of the assignment worker: the Faust app, its topics and tables."""
