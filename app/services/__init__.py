"""Use cases (admit, transfer, create a dossier...): plain arguments and a session, never `request`."""
