"""Secrets Manager: secrets, versions, stages and their rotation."""
