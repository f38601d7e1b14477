"""Console sign-in: a password (and a TOTP code) for short-lived session credentials."""
