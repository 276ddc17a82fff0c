"""The declarative forms engine: definitions as data (YAML + JSON Schema), safe expressions, a
registry of named algorithms, and the evaluation of answers. Pure: no database, no HTTP."""
