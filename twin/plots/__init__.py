"""Every plot the twin draws, in one place: a run's plots (``run``) and a comparison's (``comparison``)."""
