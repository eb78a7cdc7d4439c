"""Analysis of finished runs: paired comparison of policy arms on common random numbers, and its report."""
