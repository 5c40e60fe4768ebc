"""Aggregation of the firm panel into value-chain upgrading indicators (../shared/docs/indicators.md)."""
