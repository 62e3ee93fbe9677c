"""The HTTP side of a service: connexion app factory, middleware, problems, health."""
