"""The Atlas live view and the dealer portal (``twin-serve``): one web app over the network state.

Pages and the JSON API render from ``twin.views.NetworkView`` (precomputed once per state, never a scan per
request); accounts, sessions, approvals and escalations live in one SQLite file. Nothing here imports SimPy:
the app serves shadow mode's live state as well as a finished run.
"""
