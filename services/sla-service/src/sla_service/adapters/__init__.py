"""The SLA worker's I/O: the Faust app, its topics, its table and their codecs."""
