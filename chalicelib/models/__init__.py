"""PynamoDB models: storage shape only. Every table here is declared once more, as the
deployable resource, in infra/resources.json; tests/unit/test_resources_drift.py proves
the two agree."""
