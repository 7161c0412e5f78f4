"""Discord-free services: the features' logic, talking to the database through typed queries."""
