"""The crawler's spiders: one module per publishing platform, one base that walks columns."""
