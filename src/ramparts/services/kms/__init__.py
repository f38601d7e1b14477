"""KMS: keys whose material never leaves the service, and cryptography with them."""
