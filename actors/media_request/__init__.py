"""The RequestActor: one per media request, owning the request row and its episodes."""
