"""Netting: what each dealer pair owes each other over a cycle, after amounts both ways cancel out.

The OEM clears the network (every dealer settles its net position with the OEM once per cycle), and the
dealer statements show the pair nets so a dealer can see whom its position comes from.
"""

from __future__ import annotations

import numpy as np

from twin.settlement.money import IndexArray, PaiseArray, sum_by


def pair_netting(
    debtor: IndexArray, creditor: IndexArray, amount_paise: PaiseArray, dealer_count: int
) -> tuple[IndexArray, IndexArray, PaiseArray]:
    """Net amounts per unordered pair: rows (a, b, net) with a < b; net > 0 means a owes b. Pairs that net
    to zero are left out."""
    distinct = debtor != creditor
    debtor, creditor, amount_paise = debtor[distinct], creditor[distinct], amount_paise[distinct]
    low = np.minimum(debtor, creditor)
    high = np.maximum(debtor, creditor)
    signed = np.where(debtor < creditor, amount_paise, -amount_paise).astype(np.int64)
    keys, pair = np.unique(low * dealer_count + high, return_inverse=True)
    net = sum_by(pair.astype(np.int64), signed, keys.size)
    keep = net != 0
    return keys[keep] // dealer_count, keys[keep] % dealer_count, net[keep]
