"""Everything that faces the services calling us: webhook translation and the HTTP app."""
