"""One router per resource: sign-in, the dealer portal, Atlas, the dealer API, Clara, approvals, live events."""
