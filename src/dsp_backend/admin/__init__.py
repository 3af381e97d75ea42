"""The register pages at /admin, for the people who work the register and commissioners."""
