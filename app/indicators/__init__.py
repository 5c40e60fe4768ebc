"""Indicator maths: pure functions over plain numbers, unit-tested against ../shared/docs/indicators.md."""
