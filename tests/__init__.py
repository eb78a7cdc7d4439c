"""Test suite of the dealer-network twin (a package so ``tests.helpers`` imports the same way everywhere)."""
