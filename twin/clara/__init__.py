"""Clara: dealers' questions answered from the network state, with no person and no network call.

``twin.clara.understanding`` reads a question (intent, entities, whether it tries to talk past the rules);
the service answers it from a read-only view of the state. Everything here is pure Python (no SimPy), so the
same code runs in the twin, in shadow mode and behind the dealer portal.
"""
