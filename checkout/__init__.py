"""The checkout saga: shipping -> payment -> review -> processing -> complete."""
