"""Test-only helpers shared by the suites: fakes, real-daemon harnesses, payload fixtures."""
