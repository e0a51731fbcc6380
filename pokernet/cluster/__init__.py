"""A study on a cluster: what it costs before it starts, and where its runs stand."""
