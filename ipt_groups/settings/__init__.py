"""Programme settings a coordinator changes through the API: the message texts."""
