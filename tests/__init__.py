"""Tests of jgnode: real gRPC servers, real SQLite files, a real PostgreSQL cluster."""
