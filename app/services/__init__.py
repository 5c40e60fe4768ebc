"""Use cases. Each takes a Session, may flush, never commits: the caller owns the transaction."""
