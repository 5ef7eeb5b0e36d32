"""Background work: the durable task queue, its workers, and what they report."""
