"""What tests/ shares, one module per concept: waiting for a condition (waiting), ports
(ports), a real `parley serve` process (server), sockets on the in-process app (sockets),
the database from sync test code (db), the operator pages' own Python (static_pages).

Fixtures are in tests/conftest.py; test modules import helpers from here, never from
each other."""
