"""RAM: users, groups, roles, policies, AccessKeys, passwords and MFA."""
