"""marshmallow 4 schemas: ``*In`` schemas load and validate input, ``*Out`` schemas dump. Pure: no DB, no Flask."""
