"""Security: the FAB security manager, the role matrix, row-level scope and audit."""
