"""Groups made by hand: their slot, facilitator and members."""
