"""The Shoko matcher: ties Shoko's file events to our anime movies and episodes by path."""
