"""Training what ships: the span reader, the candidate scorer and the no-answer model (`qa train`)."""
