"""REST API v1 (FAB ModelRestApi): one module per resource, same scope, rules and errors as the UI."""
