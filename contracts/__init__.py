"""OpenAPI contracts, the scenario schema, and the contract-test kit."""
