"""The recovery sweeper: finds what is stuck and drives it on, recording what it did."""
