"""ActionTrail: the record of every call, its search, delivery and verification."""
