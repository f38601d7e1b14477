"""STS: temporary credentials for roles and signed-in users."""
